"""kustomize's output for each slice of an overlay, kept by the content key of its inputs.

A file is `<key>.yaml`: a first line with the SHA-256 of the rest, then the output. A file
that is missing, unreadable or whose hash does not match is only a slice to build again; a
file that cannot be written is a build the next run repeats. Neither can fail a run.

A `scope` keeps one use of the slices apart from another (deploy's pinned slices, in
`pinned/`, from validation's): each keeps only its own outputs.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from tasks.store import state

_KEY = re.compile(r"[0-9a-f]{64}")
_HEADER = "# sha256 "


def folder(env: str, scope: str = "") -> Path:
    """Where one scope's outputs are kept (validation's: the environment's slices folder)."""
    return state.kustomize_slices(env) / scope if scope else state.kustomize_slices(env)


def _path(env: str, key: str, scope: str) -> Path:
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a slice key: {key!r}")
    return folder(env, scope) / f"{key}.yaml"


def read(env: str, key: str, scope: str = "") -> str | None:
    """The output kept for `key`, or None (never kept, unreadable, or not what was written)."""
    try:
        text = _path(env, key, scope).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    head, _, body = text.partition("\n")
    if head != _HEADER + hashlib.sha256(body.encode()).hexdigest():
        return None
    return body


def write(env: str, key: str, text: str, scope: str = "") -> bool:
    """Keep `text` as the output for `key`; False when it cannot be written."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    try:
        state.write_atomic(_path(env, key, scope), f"{_HEADER}{digest}\n{text}")
    except OSError:
        return False
    return True


def keep_only(env: str, keys: Iterable[str], scope: str = "") -> None:
    """Remove the outputs of slices the overlay no longer has (a bounded folder)."""
    wanted = {f"{key}.yaml" for key in keys}
    with contextlib.suppress(OSError):
        for path in folder(env, scope).glob("*.yaml"):
            if path.name not in wanted:
                path.unlink(missing_ok=True)


def scratch(env: str, scope: str = "") -> Path:
    """An empty folder for the kustomizations of the slices being built."""
    work = folder(env, scope) / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    return work


def clear_scratch(env: str, scope: str = "") -> None:
    shutil.rmtree(folder(env, scope) / "work", ignore_errors=True)
