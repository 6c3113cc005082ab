"""git: the commit a checkout is at, for the release record (tasks/ops/release_record.py)."""

from __future__ import annotations

from pathlib import Path

from tasks.programs import tools


def head(root: Path) -> str | None:
    """The full commit id of HEAD, `-dirty` appended when tracked files differ from it (the
    image was built from something no commit holds); None outside a repository or without git."""
    if tools.which("git") is None:
        return None
    got = tools.run("git", "-C", str(root), "rev-parse", "--verify", "-q", "HEAD", check=False, timeout=30)
    if got.code != 0 or not got.stdout.strip():
        return None
    dirty = tools.run(
        "git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", check=False, timeout=60
    )
    return got.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def uncommitted(root: Path, *paths: Path) -> list[str]:
    """Which of `paths` (relative to `root`) differ from HEAD: changed, staged or untracked;
    [] outside a repository or without git (head() says that)."""
    if tools.which("git") is None:
        return []
    where = [p.as_posix() for p in paths]
    got = tools.run(
        "git",
        "-C",
        str(root),
        "status",
        "--porcelain",
        "--untracked-files=all",
        "--",
        *where,
        check=False,
        timeout=60,
    )
    if got.code != 0:
        return []
    return sorted({line[3:].strip() for line in got.stdout.splitlines() if len(line) > 3})
