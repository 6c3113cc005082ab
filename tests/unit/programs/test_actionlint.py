"""tasks/programs/actionlint.py. The actionlint binary cannot be installed on every machine (its
wheel's build downloads it), so a scripted stand-in plays its two answers here: a clean run
prints nothing, a finding exits 1 with the report (file:line:col: message [rule])."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import ToolError
from tasks.programs import actionlint
from testing.harness import FakeBin

FINDING = '.github/workflows/ci.yml:3:5: unexpected key "jobz" for "workflow" section [syntax-check]'


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeBin:
    return FakeBin(tmp_path / "fakes").activate(monkeypatch)


def test_a_clean_workflow_has_an_empty_report_and_no_colour(fakes: FakeBin) -> None:
    fakes.script("actionlint", "exit 0\n")
    assert actionlint.found() is True
    assert actionlint.lint([".github/workflows/ci.yml", ".github/workflows/deploy.yml"]) == ""
    assert fakes.argvs("actionlint") == [
        ["-no-color", ".github/workflows/ci.yml", ".github/workflows/deploy.yml"]
    ]


def test_a_finding_fails_with_the_report(fakes: FakeBin) -> None:
    fakes.script("actionlint", f"echo '{FINDING}'\nexit 1\n")
    with pytest.raises(ToolError) as info:
        actionlint.lint([".github/workflows/ci.yml"])
    assert 'ci.yml:3:5: unexpected key "jobz"' in str(info.value)
