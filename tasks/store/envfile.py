"""The one reader of the git-ignored `compose/<env>/.env` secret files (KEY=VALUE lines)."""

from __future__ import annotations

import stat
from collections.abc import Iterable
from pathlib import Path

from tasks import defaults
from tasks.errors import StackError

# Values shipped in compose/*/.env.example: fine for a laptop's `local`, never elsewhere.
PLACEHOLDERS = frozenset({"change-me", "changeme"})
LOCAL_ENV = defaults.LOCAL


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


def check_private(path: Path) -> None:
    """A secret file readable by group or others is refused (never silently used or extended)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        raise StackError(
            f"{path} holds secrets but is readable by others (mode {mode:o})",
            fix=f"run `chmod 600 {path}` (and rotate the secrets if others may have read them)",
        )


def check_values(path: Path, env: str, names: Iterable[str], values: dict[str, str]) -> None:
    """Placeholders from .env.example are accepted in `local` only."""
    if env == LOCAL_ENV:
        return
    bad = sorted(n for n in names if values.get(n, "").lower() in PLACEHOLDERS)
    if bad:
        raise StackError(
            f"{path}: {', '.join(bad)} still hold the placeholder {values[bad[0]]!r} (environment {env})",
            fix=f"delete these lines from {path} to get random values, or set real ones",
        )


def read_secrets(path: Path, env: str, names: Iterable[str]) -> dict[str, str]:
    """`read`, after refusing a group/world-readable file and, outside `local`, placeholders."""
    check_private(path)
    values = read(path)
    check_values(path, env, list(names), values)
    return values
