"""tasks/families/dev.py: `doit dev` takes the loop's lock, then brings the stack up as the
environment's runtime does, then runs the loop, never captured; a cloud environment or a
broken configuration is a task that fails with its one message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from doit.exceptions import TaskFailed

from tasks.errors import StackError
from tasks.families import dev
from tasks.families.shared.run import Run
from tasks.ops import devloop
from testing.project import REPO


def tasks_for(env: str) -> dict[str, dict[str, object]]:
    run = Run(root=REPO, command="run", words=["dev"], vars={"env": env}, env=env, envs=[env])
    return {str(t["basename"]): t for t in dev.task_dev(run)}


def test_the_loop_runs_after_its_lock_and_the_stack_of_its_runtime() -> None:
    compose = tasks_for("offline")
    assert compose["dev"]["task_dep"] == ["_dev_loop", "compose_up"]
    assert compose["dev"]["verbosity"] == 2 and compose["dev"]["uptodate"] == [False]
    assert tasks_for("minikube")["dev"]["task_dep"] == ["_dev_loop", "minikube_up"]


def test_a_cloud_environment_is_a_failing_task_with_one_sentence() -> None:
    (task,) = tasks_for("dev").values()
    action = task["actions"][0]  # type: ignore[index]
    failed = action()
    assert isinstance(failed, TaskFailed) and "runs only local environments" in str(failed)


def test_a_second_loop_in_the_checkout_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from tasks.ops import devloop; devloop.hold_loop('x');"
            "print('held', flush=True); time.sleep(30)",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(REPO)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StackError) as info:
            devloop.hold_loop("y")
        assert "another `doit dev` already runs in this checkout (pid" in str(info.value)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]
    devloop.hold_loop("y")  # the holder is gone: the kernel dropped its lock
    assert Path(".build/dev.lock").read_text().startswith("pid ")
    devloop.release_loop()
