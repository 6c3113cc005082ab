"""Regressions found by trying `doit` as a new user would (QA pass on issues 9 and 14).

Each test fails without the fix it names."""
from __future__ import annotations

import os
from pathlib import Path

from tests.fixtures import run_doit


def test_an_editor_lock_file_in_environments_is_not_an_environment(project: Path) -> None:
    # Emacs keeps `.#local.yaml` (a dangling symlink) while local.yaml has unsaved edits.
    os.symlink("user@host.1234:1700000000", project / "environments" / ".#local.yaml")
    listed = run_doit(project, command="list")
    assert listed.code == 0, listed.out
    rendered = run_doit(project, "render")
    assert rendered.code == 0, rendered.out
    assert "Traceback" not in rendered.out
