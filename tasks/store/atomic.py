"""Write a file only when its bytes change (so md5 file_deps downstream do not move),
through the one atomic writer, `tasks/state.write_atomic`."""

from __future__ import annotations

from pathlib import Path

from tasks.store import state


def write_text(path: Path, text: str, *, secret: bool = False) -> bool:
    """Write `text` to `path` unless it already holds exactly that; a `secret` file is
    0600 from its first byte. Returns whether the file changed."""
    try:
        unchanged = path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        unchanged = False
    if unchanged:
        if secret:
            path.chmod(0o600)
        return False
    state.write_atomic(path, text, mode=0o600 if secret else 0o644)
    return True
