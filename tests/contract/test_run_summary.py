"""The end of a run: a summary table on the console, "skipped" in the JSON report, a failed task's
own message. doit run in-process on a project copy."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from doit.reporter import JsonReporter

from tasks.cli import reporter
from testing.project import run_doit


def test_console_run_ends_with_the_summary(project: Path) -> None:
    first = run_doit(project, "render:compose-dev", "render:compose-local")
    assert [line.split()[:2] for line in first.out.splitlines()[-4:]] == [
        ["task", "result"],
        ["render:compose-dev", "ran"],
        ["render:compose-local", "ran"],
        ["2", "ran,"],
    ]
    assert first.out.splitlines()[-1].startswith("2 ran, 0 failed; ")
    assert run_doit(project, "render").code == 0
    again = run_doit(project, "render")
    assert re.fullmatch(r"0 ran, \d+ up to date, 0 failed; 0\.0 s", again.out.splitlines()[-1])


def test_json_reporter_says_skipped_for_a_skipped_check(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STACKBUILD_TF_PLUGIN_DIR", raising=False)
    result = run_doit(project, "--reporter", "json", "tf_validate")
    assert result.code == 0, result.out
    data = json.loads(result.out[result.out.index("{") :])
    task = next(t for t in data["tasks"] if t["name"] == "tf_validate")
    assert task["result"] == "skipped"
    assert task["reason"].startswith("provider schema validation")
    # Up to date next time (nothing re-parsed), and still reported as the skip it was.
    again = run_doit(project, "--reporter", "json", "tf_validate")
    task = next(
        t for t in json.loads(again.out[again.out.index("{") :])["tasks"] if t["name"] == "tf_validate"
    )
    assert (task["result"], task["started"]) == ("skipped", None)
    assert task["reason"].startswith("provider schema validation")


def test_failed_task_shows_its_message_without_doits_header(project: Path) -> None:
    template = project / "templates/compose/env.example.j2"
    template.write_text(template.read_text() + "{{ nosuch }}\n")
    result = run_doit(project, "render:compose-local")
    assert result.code == 1
    assert "TaskFailed - taskid" not in result.out
    assert "FAILED render:compose-local\ntemplates/compose/env.example.j2, line" in result.out


@pytest.fixture
def no_checkov_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """checkov and provider schemas cannot run: both checks skip (and skipping is no failure)."""
    monkeypatch.delenv("STACKBUILD_TF_PLUGIN_DIR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    paths = os.environ.get("PATH", "").split(os.pathsep)
    monkeypatch.setenv("PATH", os.pathsep.join(p for p in paths if not (Path(p) / "checkov").exists()))


def test_json_reporter_says_skipped_in_a_project_that_names_no_reporter(
    project: Path, monkeypatch: pytest.MonkeyPatch, no_checkov_here: None
) -> None:
    # A user's project: no doit.cfg, no plugin table in pyproject.toml; doit's own class answers
    # `--reporter json` (restored here, as a fresh process has it).
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("[tool.doit.plugins.reporter]", "[tool.unused]"))
    assert not (project / "doit.cfg").exists()
    for name, method in reporter.DOIT_JSON.items():
        monkeypatch.setattr(JsonReporter, name, method)
    result = run_doit(project, "--reporter", "json", "tf_validate")
    assert result.code == 0, result.out
    data = json.loads(result.out[result.out.index("{") :])
    task = next(t for t in data["tasks"] if t["name"] == "tf_validate")
    assert (task["result"], task["reason"].split(" (")[0]) == ("skipped", "provider schema validation")


def test_parallel_threads_give_each_skipped_check_its_own_reason(
    project: Path, no_checkov_here: None
) -> None:
    result = run_doit(project, "-n", "2", "-P", "thread", "tf_validate", "checkov")
    assert result.code == 0, result.out
    rows = {
        line.split()[0]: line
        for line in result.out.splitlines()
        if line.startswith(("checkov ", "tf_validate "))
    }
    assert rows["checkov"].split(None, 1)[1].startswith("skipped (checkov is not installed"), rows
    assert rows["tf_validate"].split(None, 1)[1].startswith("skipped (provider schema validation"), rows
