"""Atomic file writes: a unique temporary file in the same folder, then one rename.

The temporary file is created by `mkstemp`, which opens it 0600, so a file meant to hold
secrets (`secret=True`) is never readable by anyone else, not even for the moment
between creating it and a chmod. Other files are widened to 0644 before the rename.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text(path: Path, text: str, *, secret: bool = False) -> bool:
    """Write `text` to `path` unless it already holds exactly that (so md5 file_deps
    downstream do not move). Returns whether the file changed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.read_text(encoding="utf-8") == text:
            if secret:
                path.chmod(0o600)
            return False
    except (OSError, UnicodeDecodeError):
        pass
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if not secret:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
