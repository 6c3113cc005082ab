"""tasks/families/deploy.py: the deploy task's inputs and checks (what it does is
tasks/ops/cloud_deploy.py, tested in tests/unit/ops/test_cloud_deploy.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from doit.exceptions import TaskFailed

from tasks.cli.exits import UsageError
from tasks.cli.resolve import resolve
from tasks.config import load as config
from tasks.families import deploy as deploy_tasks
from tasks.families.shared.run import Run
from tasks.model import Config
from tasks.ops import cloud_deploy, promote
from testing.environments import copy_environments
from testing.fakes.cluster import FakeCluster
from testing.project import REPO
from testing.tasks import run_action, subtask, up_to_date


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
    # What it applies is the committed record: a deploy never builds or pushes (promote made it).
    assert "task_dep" not in task and task["uptodate"] == [(cloud_deploy.current, [dev])]


def cloud_run(root: Path) -> Run:
    return Run(root=root, command="list", words=[], vars={}, env="dev", envs=config.environments(root))


def test_deploy_and_rollback_must_name_their_environment_the_checks_need_not(tmp_path: Path) -> None:
    root = copy_environments(tmp_path)
    for task in ("deploy", "rollback"):
        with pytest.raises(UsageError, match=f"`{task}` changes a cloud environment"):
            resolve([task], root)
    for task in ("smoke", "deploy_restored"):
        assert resolve([task], root).words == [task]


def test_cloud_environments_without_a_cluster_get_no_deploy_tasks(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    staging = project / "environments" / "staging.yaml"
    staging.write_text(staging.read_text().replace("runtime: kubernetes", "runtime: compose"))
    run = cloud_run(project)
    assert [env for env, _ in run.cloud_envs()] == ["dev", "prod", "staging"]
    for creator in (
        deploy_tasks.task_deploy,
        deploy_tasks.task_smoke,
        deploy_tasks.task_rollback,
        deploy_tasks.task_deploy_restored,
    ):
        assert [t["name"] for t in creator(run)] == ["dev", "prod"]


def test_the_release_tasks_always_run_their_operation_on_their_environment(
    dev: Config, fake_cluster: FakeCluster
) -> None:
    run = cloud_run(REPO)
    for creator, failure in (
        (deploy_tasks.task_rollback, "no known-good release recorded for dev"),
        (deploy_tasks.task_deploy_restored, "the last deploy of dev did not restore the previous release"),
    ):
        task = subtask(creator(run), "dev")
        assert "dev" in task["doc"] and up_to_date(task) is False
        failed = run_action(task)
        assert isinstance(failed, TaskFailed) and failure in str(failed)


def promote_run(**given: str) -> Run:
    return Run(
        root=REPO, command="run", words=["promote"], vars=given, env="dev", envs=config.environments(REPO)
    )


def test_promote_without_both_environments_names_them_in_its_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for given in ({}, {"from": "dev"}, {"to": "staging"}):
        task = deploy_tasks.task_promote(promote_run(**given))
        assert task["uptodate"] == [False] and "params" in task
        failed = run_action(task)
        assert isinstance(failed, TaskFailed), given
        assert "promote needs from=<env> and to=<env>" in str(failed)
        assert "cloud environments: dev, prod, staging" in str(failed)


def test_promote_refuses_an_environment_that_is_not_a_cloud_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for source, target in (("local", "staging"), ("dev", "offline")):
        failed = run_action(deploy_tasks.task_promote(promote_run(**{"from": source, "to": target})))
        wrong = source if source == "local" else target
        assert isinstance(failed, TaskFailed) and f"{wrong} is not a cloud environment" in str(failed)
        assert "use one of dev, prod, staging" in str(failed)


def test_promote_hands_both_environments_to_the_operation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(promote, "promote", lambda source, target: calls.append((source.env, target.env)))
    assert run_action(deploy_tasks.task_promote(promote_run(**{"from": "dev", "to": "staging"}))) in (
        None,
        True,
    )
    assert calls == [("dev", "staging")]


def test_smoke_is_a_read_only_check_of_each_cloud_environment(dev: Config, fake_cluster: FakeCluster) -> None:
    task = subtask(deploy_tasks.task_smoke(cloud_run(REPO)), "dev")
    assert task["doc"] == "Smoke-check dev." and up_to_date(task) is False and task["verbosity"] == 2
