"""The tool's own code is an input of what it renders: its files are found from the modules'
imports (tasks/store/paths.py `code_files`), never named by hand, so moving a module in a
checkout keeps every task that depends on it correct.

The copy runs its OWN `tasks` package (PYTHONPATH), as a developer's checkout would after a
`git mv`: with a hand-written list the moved file would be a missing file_dep (doit fails), and
an edit of it would go unseen.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from testing.project import copy_project


def doit(project: Path, *args: str) -> tuple[int, list[str]]:
    """`doit <args>` in its own process on the copy's own tasks package: (exit code, tasks run)."""
    env = {**os.environ, "PYTHONPATH": str(project)}
    done = subprocess.run(
        [sys.executable, "-m", "doit", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    ran = [line[3:].strip() for line in done.stdout.splitlines() if line.startswith(".  ")]
    return done.returncode, ran


def move_module(project: Path, old: str, new: str) -> None:
    """`git mv tasks/render/<old>.py tasks/render/<new>.py`, with its importers rewritten."""
    folder = project / "tasks" / "render"
    (folder / f"{old}.py").rename(folder / f"{new}.py")
    importer = re.compile(r"^(from tasks\.render import .*)\b" + old + r"\b", re.M)
    for path in (project / "tasks").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        moved = importer.sub(rf"\g<1>{new} as {old}", text)
        if moved != text:
            path.write_text(moved, encoding="utf-8")


def test_a_moved_module_stays_an_input_of_what_depends_on_it(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    code, _ = doit(project, "render")
    assert code == 0

    move_module(project, "placement", "where")
    code, ran = doit(project, "render")
    assert code == 0, ran  # a hand-written path would now be a missing file_dep
    assert "render:docs-placement" in ran  # its code changed place: it renders again
    assert doit(project, "render") == (0, [])  # and then it is up to date

    moved = project / "tasks" / "render" / "where.py"
    moved.write_text(moved.read_text(encoding="utf-8") + "\n# an edit of the moved module\n")
    code, ran = doit(project, "render")
    assert code == 0 and "render:docs-placement" in ran
