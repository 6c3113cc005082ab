"""`doit dumpdb` reads the per-environment JSON databases (tasks/cli/dumpdb_cmd.py): the functions
called directly, and the command run by doit in a scratch folder, where doit's own crashed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from doit.exceptions import InvalidCommand

from tasks.cli import dumpdb_cmd


def _project(root: Path, envs: tuple[str, ...] = ("dev", "prod")) -> Path:
    (root / "environments").mkdir()
    for env in envs:
        (root / "environments" / f"{env}.yaml").write_text("runtime: compose\n", encoding="utf-8")
    (root / ".build" / "state").mkdir(parents=True)
    return root / ".build" / "state"


def _doit(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "doit", "dumpdb", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_every_environment_database_is_listed_and_other_records_are_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _project(tmp_path)
    for name in ("dev", "stack", "code-closure", "dev.serving", "gone"):
        (folder / f"{name}.json").write_text("{}", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert [p.name for p in dumpdb_cmd.databases(None)] == ["dev.json", "stack.json"]
    assert dumpdb_cmd.databases("prod") == [Path(".build/state/prod.json")]


def test_a_database_prints_each_task_under_its_file_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _project(tmp_path)
    (folder / "dev.json").write_text(json.dumps({"render": {"a.yaml": "x"}, "build": {}}), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    text = dumpdb_cmd.dump(dumpdb_cmd.databases(None))
    assert text.splitlines() == ["# .build/state/dev.json", "build -> {}", "render -> {'a.yaml': 'x'}"]


@pytest.mark.parametrize(
    ("content", "says"),
    [(None, "does not exist"), ('{"a":', "cannot be read"), ("[1]", "is not a doit database")],
)
def test_a_missing_or_damaged_database_is_one_sentence_with_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None, says: str
) -> None:
    folder = _project(tmp_path)
    if content is not None:
        (folder / "dev.json").write_text(content, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidCommand, match=says) as caught:
        dumpdb_cmd.entries(Path(".build/state/dev.json"))
    assert ".build/state/dev.json" in str(caught.value)


def test_a_word_other_than_env_is_refused_with_the_usage() -> None:
    with pytest.raises(InvalidCommand, match=r"`dev`: dumpdb takes only env=<env> \(usage: doit dumpdb"):
        dumpdb_cmd.env_name(["dev"])


def test_doit_runs_this_command_instead_of_its_own(tmp_path: Path) -> None:
    folder = _project(tmp_path)
    (folder / "dev.json").write_text(json.dumps({"render": {"checker": "md5"}}), encoding="utf-8")
    shown = _doit(tmp_path, "env=dev")
    assert (shown.returncode, shown.stderr) == (0, "")
    assert shown.stdout.splitlines() == ["# .build/state/dev.json", "render -> {'checker': 'md5'}"]
    missing = _doit(tmp_path, "env=prod")
    assert missing.returncode == 3
    assert "Traceback" not in missing.stderr
    assert "ERROR: .build/state/prod.json does not exist" in missing.stderr
    bad = _doit(tmp_path, "env=a/b")
    assert (bad.returncode, "not an environment name" in bad.stderr) == (3, True)
    (folder / "dev.json").unlink()
    empty = _doit(tmp_path)
    assert (empty.returncode, empty.stdout) == (0, "no dependency database yet: no task has run here\n")


def test_a_folder_other_than_the_projects_root_is_refused_not_read_as_empty(tmp_path: Path) -> None:
    folder = _project(tmp_path)
    (folder / "dev.json").write_text(json.dumps({"render": {"checker": "md5"}}), encoding="utf-8")
    inside = _doit(tmp_path / "environments", "env=dev")
    assert (inside.returncode, inside.stdout) == (3, "")
    assert "Traceback" not in inside.stderr
    here = tmp_path / "environments"
    assert f"{here} is not a project's root (it has no environments/ folder)" in inside.stderr
    assert "run `doit dumpdb [env=<env>]` from the project's root" in inside.stderr
    assert _doit(tmp_path / "environments").returncode == 3
