"""Exit codes, in one place, and the one way a fatal error reaches the user.

0   everything asked for ran or was up to date
1   a task failed (its message says why and how to fix it)
2   doit itself failed while running a task
3   doit refused the command line (e.g. an unknown subtask)
64  usage error: unknown task, option or environment; a cloud command without exactly one environment
78  configuration error: a file under environments/ (file, line, key and fix are printed)
130 interrupted (Ctrl-C, SIGTERM)
"""

from __future__ import annotations

import sys
from typing import NoReturn

from tasks.errors import ConfigError, StackError

USAGE = 64
CONFIG = 78
INTERRUPTED = 130


class UsageError(StackError):
    """The command line asks for something that does not exist or is not allowed."""


def code_of(exc: StackError) -> int:
    return CONFIG if isinstance(exc, ConfigError) else USAGE


def fatal(*errors: StackError) -> NoReturn:
    """Print each error once, with its fix, and stop before any task runs."""
    for exc in errors:
        print(f"ERROR: {exc.render()}", file=sys.stderr, flush=True)
    raise SystemExit(max(code_of(e) for e in errors))


def interrupted() -> NoReturn:
    print(
        "Interrupted: nothing was recorded for the task that was running; run it again.",
        file=sys.stderr,
        flush=True,
    )
    raise SystemExit(INTERRUPTED)
