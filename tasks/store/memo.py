"""Values saved between runs, each under the key of everything it was made from.

One file a value (`state.memo(name)`), holding the key and the value, pickled. A file that is
missing, torn, from another version of the tool or under another key is a miss: the caller
makes the value again and keeps it. A value that cannot be kept (a read-only checkout, a full
disk) is only made again next time. A cache never stops a run.

Pickle, not JSON: the values are the tool's own frozen dataclasses (a whole configuration),
and loading them must cost less than making them. The files live in the checkout's `.build/`,
which only the checkout's owner writes; whoever can write there can write dodo.py too.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from tasks.store import state


def recall(path: Path, key: str) -> Any | None:
    """The value kept at `path` under `key`, or None."""
    try:
        saved_key, value = pickle.loads(path.read_bytes())
    # Any way a cache file can be wrong (torn, empty, from another version whose classes moved)
    # is only a miss.
    except Exception:  # noqa: BLE001
        return None
    return value if saved_key == key else None


def keep(path: Path, key: str, value: Any) -> bool:
    """Save `value` under `key`; False when it cannot be written (the run goes on)."""
    try:
        data = pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL)
        state.write_atomic(path, data, durable=False)
    # A disk that takes no file, or a value pickle cannot save (it raises all three).
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return False
    return True
