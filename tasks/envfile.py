"""The one reader of the git-ignored `compose/<env>/.env` secret files (KEY=VALUE lines)."""
from __future__ import annotations

from pathlib import Path


def read(path: Path) -> dict[str, str]:
    """KEY -> value; comments, blank lines, `export ` prefixes and quotes are handled; missing file: {}."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key.removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values
