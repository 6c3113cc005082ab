"""What a project's dodo.py gets (tasks/project.py), called directly."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tasks import project
from tasks.cli.reporter import SummaryReporter
from tasks.store import state
from testing.project import REPO


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    for folder in ("demo", "docker"):
        (tmp_path / folder).symlink_to(REPO / folder, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_dodo_exports_the_run_the_config_and_one_task_per_creator(root: Path) -> None:
    names = project.dodo(["list", "env=dev"], root)
    run = names["RUN"]
    assert (run.command, run.env, run.root) == ("list", "dev", root)
    assert names["DOIT_CONFIG"]["reporter"] is SummaryReporter
    assert names["DOIT_CONFIG"]["dep_file"] == str(state.dep_file("dev"))
    tasks = {k for k in names if k.startswith("task_")}
    assert tasks == {f"task_{name}" for name in project.CREATORS} and "task__preflight" in tasks
    assert names["task_doctor"]()["actions"][0][0].__name__ == "run_doctor"


def test_dodo_reads_the_command_line_and_the_folder_by_default(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["doit", "list", "env=staging"])
    run = project.dodo()["RUN"]
    assert (run.command, run.env, run.root) == ("list", "staging", root)


def test_importing_the_project_module_installs_the_interrupt_handlers() -> None:
    # Before any task module loads (and before dodo() runs): a fresh interpreter shows it.
    probe = (
        "import signal, sys\n"
        "import tasks.project\n"
        "print(getattr(sys.excepthook, 'stackbuild', False), signal.getsignal(signal.SIGTERM).__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "_sigterm"]
