"""Where source things live. doit runs every task creator and action in the project root.

Build state (`.build/`) belongs to tasks/state.py; BUILD is re-exported for the
modules that name their own state folders.
"""
from __future__ import annotations

import os
from pathlib import Path

from tasks.state import BUILD, is_temp

__all__ = ["BUILD", "PY_SOURCES", "dockerfiles", "files_under", "root"]

# The code rendering depends on: a change here re-renders, a change elsewhere does not.
PY_SOURCES = [f"tasks/{name}.py" for name in
              ("config", "errors", "healthcheck", "model", "render", "render_tasks", "schema", "state", "yamlpos")]


def root() -> Path:
    return Path.cwd()


def files_under(*folders: str) -> list[str]:
    """Every file below the folders, as sorted relative paths (a folder can't be a file_dep).

    In-flight temp files of a concurrent run (tasks/state.write_atomic) are not inputs.
    """
    out: list[str] = []
    for folder in folders:
        out += [p.as_posix() for p in Path(folder).rglob("*") if p.is_file() and not is_temp(p)]
    return sorted(out)


def dockerfiles() -> list[str]:
    """Every Dockerfile of the project (docker/, demo/, ...), never in build state or venvs.

    Walked with pruning: task creation runs on every doit call, and .venv alone holds
    tens of thousands of files."""
    skip = {".build", ".git", "node_modules", "__pycache__"}
    found = []
    for folder, dirs, files in os.walk("."):
        dirs[:] = [d for d in dirs if d not in skip and not d.startswith(".venv")
                   and not (Path(folder) / d / "pyvenv.cfg").exists()]
        found += [(Path(folder) / f).as_posix().removeprefix("./") for f in files if f.startswith("Dockerfile")]
    return sorted(found)
