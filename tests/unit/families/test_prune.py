"""tasks/families/prune.py: the `images_prune` task (always runs, after the docker preflight,
with its `keep` option) and its action on a broken environment."""

from __future__ import annotations

from doit.exceptions import TaskFailed

from tasks.config import load as config
from tasks.errors import StackError
from tasks.families import prune as prune_tasks
from tasks.families.shared.run import Run
from tasks.store import state
from testing.dockerd import Daemon, daemon, fakes
from testing.project import REPO

__all__ = ["daemon", "fakes"]  # the fixtures


def test_prune_task_reports_a_broken_environment(daemon: Daemon) -> None:
    failed = prune_tasks.prune(StackError("environments/local.yaml: bad"), 3)
    assert isinstance(failed, TaskFailed) and "environments/local.yaml: bad" in str(failed)
    assert daemon.calls() == []


def test_prune_task_prunes_and_always_runs(daemon: Daemon) -> None:
    cfg = config.load("local", REPO)
    repo = cfg.image_ref("engine")
    for n in (1, 2):
        daemon.add_image(f"{repo}:{n:012x}")
        state.record_built(f"{repo}:{n:012x}")
    assert prune_tasks.prune(cfg, 1) is None
    assert daemon.refs() == [f"{repo}:000000000002"]
    run = Run(root=REPO, command="run", words=["images_prune"], vars={}, env="local", envs=["local"])
    task = prune_tasks.task_images_prune(run)
    assert task["uptodate"] == [False] and task["task_dep"] == ["_preflight:docker"]
    assert [p["name"] for p in task["params"]] == ["keep"]
