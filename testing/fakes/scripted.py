"""Runner of a scripted fake (testing.harness.FakeBin.script): log the call, run the sh body.

Usage (from the wrapper only): python -m testing.fakes.scripted NAME BODY_FILE ARGS...
"""
from __future__ import annotations

import subprocess
import sys

from testing.harness import log_call, log_from_env


def main(argv: list[str]) -> int:
    name, body, args = argv[0], argv[1], argv[2:]
    # stdin, stdout and stderr are inherited: the body reads and prints as the program would.
    code = subprocess.call([body, *args])
    log_call(log_from_env(), name, args, False, code)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
