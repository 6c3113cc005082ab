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
from tasks.ui import server
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


def test_the_loop_takes_the_status_page_port_as_an_option() -> None:
    params = {p["name"]: p["default"] for p in tasks_for("offline")["dev"]["params"]}  # type: ignore[attr-defined]
    assert params["port"] == 10360


class Page:
    url = "http://127.0.0.1:10399/"

    def __init__(self) -> None:
        self.stopped = False
        self.wait = -1.0

    def stop(self, *, wait: float) -> None:
        self.stopped, self.wait = True, wait


def test_the_loop_serves_the_status_page_and_stops_it_when_the_loop_ends(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page, loops = Page(), []
    monkeypatch.setattr(server, "start", lambda env, *, port, root: page if port == 10399 else None)
    monkeypatch.setattr(devloop, "run", lambda env, root: loops.append((env, page.stopped)))
    dev.loop_with_page("offline", REPO, 10399)
    assert loops == [("offline", False)] and page.stopped  # served during the loop, stopped after
    assert 0 < page.wait <= 1.0  # Ctrl-C ends the loop within 2 s, page included
    assert capsys.readouterr().err.count(page.url) == 1  # its address, once


def test_a_taken_status_page_port_is_a_note_and_the_loop_still_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def taken(env: str, *, port: int, root: Path) -> Page:
        raise StackError(f"port {port} is taken", fix="choose another with port=<n>")

    loops: list[str] = []
    monkeypatch.setattr(server, "start", taken)
    monkeypatch.setattr(devloop, "run", lambda env, root: loops.append(env))
    dev.loop_with_page("offline", REPO, 10360)
    assert loops == ["offline"]
    out = capsys.readouterr()
    assert "status page not served: port 10360 is taken (choose another with port=<n>)" in out.err


def test_port_zero_runs_the_loop_without_a_page(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started: list[int] = []
    loops: list[str] = []

    def start(env: str, *, port: int, root: Path) -> Page:
        started.append(port)
        return Page()

    monkeypatch.setattr(server, "start", start)
    monkeypatch.setattr(devloop, "run", lambda env, root: loops.append(env))
    dev.loop_with_page("offline", REPO, dev.NO_PAGE)
    assert loops == ["offline"] and started == []  # the loop ran, no page was started
    err = capsys.readouterr().err
    assert "status page" not in err  # neither an address nor a note
