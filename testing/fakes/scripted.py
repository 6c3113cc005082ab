"""Runner of a scripted fake (testing.harness.FakeBin.script): become the body, log the call.

Usage (from the wrapper only): python -m testing.fakes.scripted NAME BODY_FILE ARGS...

The runner execs instead of waiting for a child: the process the product started *is* the
script (same pid), so a SIGTERM, or the SIGKILL after a grace period, reaches the script
itself as it would a real program (tests/test_mut_tools.py). An sh body is sourced by an sh
whose EXIT trap logs the call with its exit status (a SIGKILLed call is not logged, as it
never exits); a body with another interpreter is logged before it runs, with "exit": None.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from testing.harness import log_call, log_from_env

NAME_ENV, ARGV_ENV = "FAKE_SCRIPTED_NAME", "FAKE_SCRIPTED_ARGV"
SH = "#!/bin/sh\n"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--log"]:  # from the EXIT trap: the call's name and argv were saved before the body ran
        log_call(log_from_env(), os.environ[NAME_ENV], json.loads(os.environ[ARGV_ENV]), False, int(argv[1]))
        return 0
    name, body, args = argv[0], argv[1], argv[2:]
    if not Path(body).read_bytes().startswith(SH.encode()):
        log_call(log_from_env(), name, args, False, None)
        os.execv(body, [body, *args])
    os.environ[NAME_ENV], os.environ[ARGV_ENV] = name, json.dumps(args)
    logger = f'"{sys.executable}" -m testing.fakes.scripted --log'
    # `$?` in the EXIT trap is the body's exit status; the trap keeps it as the shell's.
    trap = f'trap \'code=$?; {logger} "$code"; exit "$code"\' EXIT'
    os.execv("/bin/sh", ["/bin/sh", "-c", f'{trap}\n. "{body}"', name, *args])
    return 127  # not reached: execv replaces this process or raises


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
