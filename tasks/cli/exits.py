"""Exit codes, in one place, and the one handler that turns a failure into its message and code
(as pre-commit's error_handler.py).

0   everything asked for ran or was up to date
1   a task failed (its message says why and how to fix it)
2   doit itself failed while running a task
3   doit refused the command line (e.g. an unknown subtask)
64  usage error: unknown task, option or environment; a cloud command without exactly one environment
78  configuration error: a file under environments/ (file, line, key and fix are printed)
130 interrupted (Ctrl-C, SIGTERM)

Before any task runs, `handled` ends the run: a StackError with its message and fix (64 or
78), Ctrl-C with one sentence (130). While tasks run, doit returns 1, 2 or 3 and the
reporter (tasks/cli/reporter.py) shows a task's failure; Ctrl-C and SIGTERM end the run through
the hook `install` sets, with one sentence. Anything else is a bug and keeps its traceback:
nothing else in the tool prints one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
from collections.abc import Iterator
from types import FrameType, TracebackType
from typing import NoReturn

from tasks.errors import ConfigError, StackError
from tasks.output import console

TASK_FAILED = 1
DOIT_ERROR = 2
DOIT_REFUSED = 3
USAGE = 64
CONFIG = 78
INTERRUPTED = 130

# doit saves its database in a `finally` and never records the interrupted task.
INTERRUPTED_TASK = "Interrupted: the running task was not recorded as done; run the command again."
NOTHING_RAN = "Interrupted while waiting for the other run: nothing ran."


class UsageError(StackError):
    """The command line asks for something that does not exist or is not allowed."""


class Several(StackError):
    """More than one error, each reported on its own (every broken file, once)."""

    def __init__(self, errors: list[StackError]) -> None:
        self.errors = errors
        super().__init__("\n".join(e.render() for e in errors))


def code_of(exc: StackError) -> int:
    return CONFIG if isinstance(exc, ConfigError) else USAGE


def fatal(*errors: StackError) -> NoReturn:
    """Print each error once, with its fix, and stop before any task runs."""
    each = [e for exc in errors for e in (exc.errors if isinstance(exc, Several) else [exc])]
    for exc in each:
        console.error(exc.render())
    raise SystemExit(max(code_of(e) for e in each))


@contextlib.contextmanager
def handled(*, interrupted: str = INTERRUPTED_TASK) -> Iterator[None]:
    """A step before any task runs: a StackError ends the run with its message (`fatal`), Ctrl-C
    with `interrupted`; both without a traceback."""
    try:
        yield
    except StackError as exc:
        fatal(exc)
    except KeyboardInterrupt:
        console.say(f"\n{interrupted}")
        raise SystemExit(INTERRUPTED) from None


def _sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    # CI cancellations (SIGTERM) take the same path as Ctrl-C.
    raise KeyboardInterrupt


def install() -> None:
    """Ctrl-C and SIGTERM end the run with one sentence, wherever they land (idempotent).

    Imported first by tasks/project.py, so it is in place while the task modules load. Python
    then exits as killed by SIGINT, so shells and CI see status 130."""
    signal.signal(signal.SIGTERM, _sigterm)
    previous = sys.excepthook
    if getattr(previous, "stackbuild", False):
        return

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            console.say(f"\n{INTERRUPTED_TASK}")
            return
        previous(kind, exc, tb)  # a bug: Python's own traceback, the report to file

    hook.stackbuild = True  # type: ignore[attr-defined]
    sys.excepthook = hook


def quiet_broken_pipe() -> None:
    """`doit list | head -1`: a reader that stops early ends the listing as it ends `ls`, without
    doit's BrokenPipeError traceback. Only when stdout is a pipe (a test capturing output in-process
    keeps Python's handler), and only for commands that read: a run keeps going to record its state."""
    try:
        piped = stat.S_ISFIFO(os.fstat(sys.stdout.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):  # no real stdout (closed, a StringIO)
        return
    if piped:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
