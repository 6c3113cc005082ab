"""tasks/families/deploy.py: the deploy task's inputs and checks (what it does is
tasks/ops/cloud_deploy.py, tested in tests/unit/ops/test_cloud_deploy.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.config import load as config
from tasks.families import deploy as deploy_tasks
from tasks.families.shared.run import Run
from tasks.model import Config
from tasks.ops import cloud_deploy
from testing.project import REPO


@pytest.fixture
def dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.chdir(tmp_path)
    return config.load("dev", REPO)


def test_deploy_task_depends_on_the_environment_file_when_there_is_one(dev: Config) -> None:
    assert dev.env is not None
    run = Run(root=REPO, command="run", words=["deploy"], vars={}, env="dev", envs=[dev.env])
    env_file = Path("compose") / dev.env / ".env"
    (task,) = deploy_tasks.task_deploy(run)
    assert str(env_file) not in task["file_dep"]
    env_file.parent.mkdir(parents=True)
    env_file.write_text("A=1\n")
    (task,) = deploy_tasks.task_deploy(run)
    assert str(env_file) in task["file_dep"]
    assert task["task_dep"] == ["push:dev"] and task["uptodate"] == [(cloud_deploy.current, [dev])]
