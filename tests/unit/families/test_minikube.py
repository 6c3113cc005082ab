"""tasks/families/minikube.py: the family's shape per image strategy, its refusal of other
environments, its checks that never crash doit, and which tasks always run (what each task
does is tasks/ops/minikube.py, tested in tests/unit/ops/test_minikube.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from doit.exceptions import TaskFailed

from tasks.config import load as config
from tasks.errors import StackError
from tasks.families import minikube as minikube_tasks
from tasks.families.shared import registry
from tasks.model import Config
from tasks.store import images
from testing.fakes import k8sstate as fs
from testing.fakes.cluster import FakeCluster
from testing.harness import FakeBin
from testing.minikube_env import TEST_ENV, TEST_ENV_YAML
from testing.project import REPO

Task = dict[str, Any]


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The repository's environments plus the image-load test environment, as cwd (the
    sources the configuration names are links to the repository's: only read)."""
    root = tmp_path / "proj"
    shutil.copytree(REPO / "environments", root / "environments")
    for name in ("k8s", "templates"):
        (root / name).symlink_to(REPO / name)
    for name in ("demo", "docker"):  # build inputs: inside the project, never links out of it
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "environments" / f"{TEST_ENV}.yaml").write_text(TEST_ENV_YAML % {"strategy": "image-load"})
    monkeypatch.chdir(root)
    return root


def _family(cfg: Config) -> dict[str, Task]:
    return {
        t["basename"] + (f":{t['name']}" if t.get("name") else ""): t for t in minikube_tasks._family(cfg)
    }


def _act(task: Task, **kw: Any) -> None:
    """Run a task's one python action; a TaskFailed becomes a StackError-like failure."""
    action = task["actions"][0]
    func: Callable[..., Any]
    args: list[Any] = []
    if isinstance(action, tuple):
        func, args = action
    else:
        func = action
    result = func(*args, **kw)
    if isinstance(result, TaskFailed):
        raise StackError(str(result.message))


def _uptodate(task: Task) -> object:
    """What the task's check returns, as is (doit reads None as "no opinion", not "not done")."""
    check = task["uptodate"][0]
    if isinstance(check, tuple):
        return check[0](*check[1])
    return check()


def _cluster(fake_cluster: FakeCluster, profile: str) -> FakeCluster:
    c = FakeCluster(fake_cluster.state_dir, profile=profile)
    c.bin_dir = fake_cluster.bin_dir
    return c


def _disable(c: FakeCluster, addon: str) -> None:
    """The addon was disabled behind the product's back."""
    profile = c.profile  # read before the transaction: it takes the same lock
    with fs.transaction(c.state_dir) as st:
        st["clusters"][profile]["addons"][addon] = False


def test_the_family_of_each_strategy(root: Path) -> None:
    docker_env = _family(config.load("minikube", root))
    assert "minikube_load" not in docker_env
    assert docker_env["minikube_apply"]["task_dep"] == [
        "minikube_start",
        "compose_up_dbs",
        "minikube_images",
        *minikube_tasks.render_steps("minikube"),
    ]
    assert docker_env["minikube_up"]["task_dep"] == [
        "minikube_start",
        "minikube_images",
        "minikube_apply",
        "minikube_rollout",
    ]
    assert docker_env["minikube_images:engine"]["task_dep"] == ["minikube_start"]
    load = _family(config.load(TEST_ENV, root))
    assert load["minikube_apply"]["task_dep"][:2] == ["minikube_start", "minikube_load"]
    assert load["minikube_up"]["task_dep"][2] == "minikube_load"
    assert load["minikube_images:engine"]["task_dep"] == []
    assert load["minikube_load"]["file_dep"] == [
        str(images.ref_file(TEST_ENV, n, "minikube_images"))
        for n in config.load(TEST_ENV, root).cluster_images()
    ]
    assert "minikube_images:builder" in load and "minikube_images:engine" in load
    # The build context the images list is made in the family too (its stamp is their file_dep).
    stamps = {
        t
        for name, task in load.items()
        if name.startswith("minikube_images:context:")
        for t in task["targets"]
    }
    assert stamps and stamps <= set(load["minikube_images:engine"]["file_dep"])
    assert docker_env["minikube_images:context:demo"]["task_dep"] == ["minikube_start"]


def test_a_non_kubernetes_or_cloud_environment_is_refused(root: Path) -> None:
    class _Run:
        def __init__(self, env: str) -> None:
            self.env = env

        def env_for(self, _: str) -> str:
            return self.env

        def config(self, env: str) -> Config:
            return config.load(env, root)

        def params(self, _: str) -> list[dict[str, Any]]:
            return []

    for env, words in (("local", "(runtime: compose)"), ("dev", "(runtime: kubernetes, cloud)")):
        with pytest.raises(
            StackError, match=f"environment '{env}' is not a local Kubernetes environment"
        ) as info:
            minikube_tasks.load(_Run(env))  # type: ignore[arg-type]
        assert words in info.value.message
        tasks = list(minikube_tasks.task_minikube(_Run(env)))  # type: ignore[arg-type]
        assert sorted(t["basename"] for t in tasks) == sorted(minikube_tasks.PUBLIC)
    assert minikube_tasks.load(_Run("minikube")).env == "minikube"  # type: ignore[arg-type]


def test_a_check_that_cannot_ask_means_not_done(
    root: Path, fakebin: FakeBin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A minikube that fails mid-check: the up-to-date check says "not done" (the action
    then explains), it does not crash doit."""
    fakebin.script(
        "minikube",
        'case "$3" in status) echo \'{"Host": "Running", "APIServer": "Running"}\';;\n'
        "*) echo 'minikube: broken' >&2; exit 3;; esac\n",
    )
    fakebin.activate(monkeypatch)
    assert _uptodate(_family(config.load(TEST_ENV, root))["minikube_start"]) is False


def test_the_operations_always_run(root: Path) -> None:
    fam = _family(config.load(TEST_ENV, root))
    for name in ("minikube_status", "minikube_logs", "minikube_down", "minikube_delete", "port_forward"):
        assert fam[name]["uptodate"] == [False], name


def test_the_logs_task_takes_its_tail_and_the_log_filters() -> None:
    declared = registry.task("minikube_logs")
    assert declared is not None
    assert [o.name for o in declared.options] == ["tail", "service", "level", "id"]


def test_the_start_task_is_done_once_the_cluster_runs_with_its_addons(
    root: Path, fake_cluster: FakeCluster
) -> None:
    start = _family(config.load(TEST_ENV, root))["minikube_start"]
    assert not _uptodate(start)  # no cluster: not done, and no crash
    _act(start)
    assert _uptodate(start)
    _disable(_cluster(fake_cluster, "mktest"), config.load(TEST_ENV, root).minikube.addons[0])
    assert not _uptodate(start)
