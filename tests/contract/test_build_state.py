"""The build state under .build/: a damaged dependency database is moved aside and rebuilt, and
a .build in the way is one sentence. doit on a project copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasks.store import state
from testing.processes import Doit
from testing.project import run_doit


def test_a_damaged_dependency_database_is_rebuilt_with_a_message(project: Path) -> None:
    assert run_doit(project, "render").code == 0
    db = project / state.dep_file("local")
    db.write_text(db.read_text()[:40])  # what a kill in the middle of a write used to leave
    again = run_doit(project, "render")
    assert again.code == 0, again.out
    assert "was damaged" in again.out and "rebuilt" in again.out
    assert json.loads(db.read_text())  # written whole (atomically) at the end of the run
    assert (db.parent / "local.json.damaged").exists()


def test_a_dependency_database_of_the_wrong_shape_is_rebuilt(project: Path) -> None:
    assert run_doit(project, "render").code == 0
    db = project / state.dep_file("local")
    db.write_text('{"render": "x"}')  # valid JSON, but not what doit reads
    result = run_doit(project, "render")
    assert result.code == 0, result.out
    assert "Traceback" not in result.out
    assert "was damaged" in result.out, result.out


@pytest.mark.parametrize("shape", ["build-is-a-file", "lock-is-a-folder"])
def test_a_broken_build_folder_is_one_sentence_not_a_traceback(project: Path, shape: str) -> None:
    if shape == "build-is-a-file":
        (project / ".build").write_text("oops\n")
    else:
        (project / state.lock_file()).mkdir(parents=True)
    # A real process: the in-process helper itself writes under .build/.
    code, out = Doit(project, "render").finish()
    assert code == 64, out
    assert "Traceback" not in out, out
    assert "cannot use the build state folder .build/" in out, out
    assert "rm -rf .build" in out
