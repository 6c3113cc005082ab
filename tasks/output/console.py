"""Every line the tool prints goes through here (as pre-commit's `output.py`): one place decides
where a line goes, that it is flushed, and how it is indented.

- `step`: one progress line of the running task, on stdout, indented under doit's task title;
- `show`: a block as it is (a table, a program's output passed through), on stdout;
- `note` and `error`: for the person at the terminal, on stderr, so they survive a redirected
  stdout (`doit ... > log`) and never mix into a machine-readable report;
- `skipped`: a check that could not run, said loudly and remembered (`taken`) for the run's
  reports, which must say "skipped", not "success".

Secret values are masked (`redact`): those the running operation declared with `hide` in every
line printed here and in every step log (tasks/output/progress.py), whole values only.

Progress of long tool runs is `tasks/output/progress.py`; colours are `tasks/output/term.py`.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterable

INDENT = "  "
MASK = "********"
# A value is masked where it stands whole: not inside a longer run of these characters (the
# alphabet of the secrets the tool generates, `secrets.token_urlsafe`), so a value `a` masks a
# word `a`, never every letter a of the text (docs/decisions.md, "Masking whole values").
_TOKEN = "A-Za-z0-9_-"
_hidden: tuple[str, ...] = ()  # replaced whole, never changed in place: threads read it
SKIPPED = "SKIPPED:"
# What `skipped` recorded, per thread: doit runs a task's actions in one thread (or process),
# several at once with `-P`, so a reason never lands on another task's report.
_skips = threading.local()


def redact(text: str, values: Iterable[str]) -> str:
    """`text` with every whole occurrence of each value replaced by MASK (longest first, so a
    value inside a longer secret never leaves the rest of it showing)."""
    for value in sorted({v for v in values if v}, key=len, reverse=True):
        text = re.sub(rf"(?<![{_TOKEN}]){re.escape(value)}(?![{_TOKEN}])", MASK, text)
    return text


def hide(values: Iterable[str]) -> None:
    """Mask these values, from now on in this process, in every printed line and step log."""
    global _hidden
    _hidden = tuple(sorted({*_hidden, *(v for v in values if v)}))


def forget_hidden() -> None:
    """Forget every value given to `hide`: for a process that runs many projects' operations
    one after another (the test suite's in-process runs); a doit run never needs it."""
    global _hidden
    _hidden = ()


def masked(text: str) -> str:
    """`text` with the values given to `hide` masked."""
    return redact(text, _hidden) if _hidden else text


def step(text: str) -> None:
    """A progress line of the running task (`  image engine built`)."""
    print(masked(f"{INDENT}{text}"), flush=True)


def show(text: str, *, end: str = "\n") -> None:
    """A block exactly as given: a table, or a program's output passed through."""
    print(masked(text), end=end, flush=True)


def note(text: str) -> None:
    """Something the user should know that is not a failure (`NOTE: ...`), on stderr."""
    print(masked(f"NOTE: {text}"), file=sys.stderr, flush=True)


def error(text: str) -> None:
    """A failure that ends the run (`ERROR: ...`), on stderr."""
    print(masked(f"ERROR: {text}"), file=sys.stderr, flush=True)


def say(text: str) -> None:
    """A sentence for the person at the terminal, on stderr, as written (no prefix)."""
    print(masked(text), file=sys.stderr, flush=True)


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
