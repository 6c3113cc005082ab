"""Ctrl-C and SIGTERM always stop a run, and end it with one sentence, not a traceback.

Imported first by dodo.py, so it is in place while the task modules load. doit saves
its database in a `finally` and never records the interrupted task; Python then exits
as killed by SIGINT, so shells and CI see status 130.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType, TracebackType
from typing import NoReturn

MESSAGE = "Interrupted: the running task was not recorded as done; run the command again."


def _sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    # CI cancellations (SIGTERM) take the same path as Ctrl-C.
    raise KeyboardInterrupt


def install() -> None:
    signal.signal(signal.SIGTERM, _sigterm)
    previous = sys.excepthook
    if getattr(previous, "stackbuild", False):
        return

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            print(f"\n{MESSAGE}", file=sys.stderr, flush=True)
            return
        previous(kind, exc, tb)

    hook.stackbuild = True  # type: ignore[attr-defined]
    sys.excepthook = hook
