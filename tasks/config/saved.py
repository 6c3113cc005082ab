"""Loaded configurations kept between runs, so a run whose inputs did not change reads one file
(.build/memo/) instead of parsing and checking every YAML file again.

At 300 services, parsing stack.yaml with its lines and running the rules over eight environments
took most of `doit list`. A saved value is used only when all of these are as they were:
- the contents of the YAML files it was made from (hashed: a file rewritten within one tick of
  the clock, same size, has the same mtime);
- the tool's own source files (mtime, size): an edited rule or field makes every value stale;
- every answer the rules got from the disk (tasks/config/disk.py), asked again.
A configuration that fails its checks is never kept: its error is found again each run.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
import sys
from pathlib import Path
from typing import Any

from tasks.config import disk
from tasks.store import memo, paths, state

# Part of every key: a change to what is saved (or to how keys are made) misses every old file.
FORMAT = 1
# What a key reads of a file at most: its load refuses any over 256 KiB (yamlpos.MAX_BYTES).
_MOST = 1 << 20


def key(files: list[Path], *parts: object) -> str:
    """A key for a value made from the contents of `files` and from `parts`, by this tool's code."""
    digest = hashlib.sha256(
        repr(
            (
                FORMAT,
                sys.version_info[:2],
                _code(Path(__file__).resolve().parents[1]),
                paths.tool_build_folders(),
                parts,
            )
        ).encode()
    )
    for path in files:
        digest.update(f"\0{path}\0".encode("utf-8", errors="surrogatepass"))
        try:
            digest.update(_contents(path))
        except OSError as exc:  # its load reports why; the key only has to differ
            digest.update(f"unreadable {exc.errno}".encode())
    return digest.hexdigest()


def _contents(path: Path) -> bytes:
    """What its load reads (tasks/config/yamlpos.py): a FIFO or device in a file's place is
    refused there, so here it must neither block the open nor be read without end."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return b"\0not a regular file"
        return handle.read(_MOST)


def recall(root: Path, name: str, key: str) -> Any | None:
    """The value kept as `name` under `key`, if every disk answer it was made with still holds."""
    saved = memo.recall(root / state.memo(name), key)
    if not isinstance(saved, tuple) or len(saved) != 2:
        return None
    probes, value = saved
    return value if disk.still_true(probes) else None


def keep(root: Path, name: str, key: str, probes: list[disk.Probe], value: Any) -> None:
    memo.keep(root / state.memo(name), key, (probes, value))


@functools.cache
def _code(package: Path) -> tuple[tuple[str, int, int], ...]:
    # Stamps, not hashes: this runs on every start, and an editor's save changes the mtime.
    # Hidden files are editors' (Emacs's lock `.#load.py` is a link to nowhere), never code.
    stamps = []
    for path in sorted(package.rglob("*.py")):
        if path.name.startswith("."):
            continue
        try:
            st = path.stat()
        except OSError:  # removed while we looked (a checkout under way): that is a change too
            continue
        stamps.append((path.relative_to(package).as_posix(), st.st_mtime_ns, st.st_size))
    return tuple(stamps)
