"""Every line the tool prints goes through here (as pre-commit's `output.py`): one place decides
where a line goes, that it is flushed, and how it is indented.

- `step`: one progress line of the running task, on stdout, indented under doit's task title;
- `show`: a block as it is (a table, a program's output passed through), on stdout;
- `note` and `error`: for the person at the terminal, on stderr, so they survive a redirected
  stdout (`doit ... > log`) and never mix into a machine-readable report;
- `skipped`: a check that could not run, said loudly and remembered (`taken`) for the run's
  reports, which must say "skipped", not "success".

Progress of long tool runs is `tasks/output/progress.py`; colours are `tasks/output/term.py`.
"""

from __future__ import annotations

import sys
import threading

INDENT = "  "
SKIPPED = "SKIPPED:"
# What `skipped` recorded, per thread: doit runs a task's actions in one thread (or process),
# several at once with `-P`, so a reason never lands on another task's report.
_skips = threading.local()


def step(text: str) -> None:
    """A progress line of the running task (`  image engine built`)."""
    print(f"{INDENT}{text}", flush=True)


def show(text: str, *, end: str = "\n") -> None:
    """A block exactly as given: a table, or a program's output passed through."""
    print(text, end=end, flush=True)


def note(text: str) -> None:
    """Something the user should know that is not a failure (`NOTE: ...`), on stderr."""
    print(f"NOTE: {text}", file=sys.stderr, flush=True)


def error(text: str) -> None:
    """A failure that ends the run (`ERROR: ...`), on stderr."""
    print(f"ERROR: {text}", file=sys.stderr, flush=True)


def say(text: str) -> None:
    """A sentence for the person at the terminal, on stderr, as written (no prefix)."""
    print(text, file=sys.stderr, flush=True)


def skipped(reason: str, *, loud: bool = False) -> None:
    """A check that could not run here (`  SKIPPED: <reason>`), remembered until `taken`.
    `loud`: framed, for a check CI must run."""
    line = f"{SKIPPED} {reason}"
    if loud:
        show("!" * 100 + f"\n{INDENT}{line}\n" + "!" * 100)
    else:
        step(line)
    _skips.__dict__.setdefault("reasons", []).append(reason)


def taken() -> list[str]:
    """The reasons `skipped` recorded in this thread since the last call, oldest first."""
    reasons: list[str] = _skips.__dict__.pop("reasons", [])
    return reasons
