"""Checks that passed, remembered by the content hash of what they checked.

A record is a text file of keys (hex SHA-256, one a line), newest first. The caller makes each
key from everything its check depends on (the content, the validator and its schema version),
so a key that is here means "this exact check passed once": it need not run again, in this
environment or another. A record keeps what earlier checks passed too, up to MAX_KEYS, so a
value changed and changed back finds every document it had passed. A record that cannot be
read, or a line that is no key, is only a check to run again: it never stops a run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from tasks.store import state

# A 300-service overlay has about 800 documents: this keeps some 25 versions of one.
MAX_KEYS = 20_000
_KEY = re.compile(r"[0-9a-f]{64}")


def keys_in(path: Path) -> list[str]:
    """The keys of one record, newest first; [] when it is missing or unreadable."""
    try:
        text = path.read_bytes().decode("ascii", errors="replace")
    except OSError:
        return []
    return [line for line in text.split() if _KEY.fullmatch(line)]


def passed(folder: Path) -> set[str]:
    """Every key of every record (`*.txt`) in `folder`."""
    try:
        records = sorted(folder.glob("*.txt"))
    except OSError:
        return set()
    return {key for path in records for key in keys_in(path)}


def remember(path: Path, keys: Iterable[str]) -> bool:
    """Record `keys` as passed, newest first, before what the record held (at most MAX_KEYS).
    False when the record cannot be written: the checks passed all the same, and will only run
    again next time."""
    new = list(dict.fromkeys(keys))
    fresh = set(new)
    kept = new + [key for key in keys_in(path) if key not in fresh]
    try:
        state.write_atomic(path, "".join(f"{key}\n" for key in kept[:MAX_KEYS]))
    except OSError:
        return False
    return True
