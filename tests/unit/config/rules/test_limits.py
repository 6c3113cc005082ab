"""Values Docker refuses only at `compose up`, refused at load time (tasks/config/rules/limits.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.config.rules import limits as rules
from testing.configs import LOCAL, broken, read, small_project, stack


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_project(tmp_path)


@pytest.mark.parametrize(
    ("kind", "res", "value", "problem"),
    [
        ("limits", "cpu", "9m", "a CPU limit of 9m is below what Docker accepts (10m, `cpus: 0.01`)"),
        ("limits", "cpu", 0.001, "a CPU limit of 0.001 is below what Docker accepts (10m, `cpus: 0.01`)"),
        ("limits", "memory", "4Mi", "a memory limit of 4Mi is below what Docker accepts (6Mi)"),
        ("requests", "memory", "6291455", "a memory request of 6291455 is below what Docker accepts (6Mi)"),
    ],
)
def test_resources_are_what_docker_accepts(
    root: Path, kind: str, res: str, value: object, problem: str
) -> None:
    data = stack()
    resources = data["services"]["web"]["resources"]
    resources["requests"] = {"cpu": "1m", "memory": "6Mi"}
    resources[kind][res] = value
    err = broken(rules.resources_are_what_docker_accepts, root, data)
    assert (err.keypath, err.problem) == (f"services.web.resources.{kind}.{res}", problem)
    # The edges Docker accepts (a CPU request is dropped by Compose: any value).
    resources["requests"] = {"cpu": "1m", "memory": "6Mi"}
    resources["limits"] = {"cpu": "10m", "memory": "6Mi"}
    rules.resources_are_what_docker_accepts(read(root, data))


def test_jobs_run_one_container(root: Path) -> None:
    env = {**LOCAL, "services": {"migrate": {"replicas": 5}}}
    err = broken(rules.jobs_run_one_container, root, None, env)
    assert (err.file, err.keypath) == ("environments/test.yaml", "services.migrate.replicas")
    assert err.problem == "job 'migrate' has replicas 5, but a job runs one container (accepted: 1)"
    assert err.fix == "remove `replicas:` (or make it a deployment, which runs replicas)"
    rules.jobs_run_one_container(read(root, None, {**LOCAL, "services": {"migrate": {"replicas": 1}}}))
