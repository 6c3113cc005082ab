"""tasks/ui/actions.py: which doit tasks each button runs, the queue, and the real runner."""

from __future__ import annotations

import time

import pytest

from tasks.errors import StackError
from tasks.ui.actions import Action, Queue, doit_runner, tasks_for
from tasks.ui.board import Board, Header
from testing.project import REPO


def test_rebuild_runs_the_rows_image_and_its_up_step_on_compose() -> None:
    built = {"engine", "bootstrap"}
    assert tasks_for("compose", Action("rebuild", "engine", "service"), built) == [
        "images:engine",
        "compose_up_services",
    ]
    assert tasks_for("compose", Action("rebuild", "redis", "database"), built) == ["compose_up_dbs"]
    assert tasks_for("compose", Action("rebuild", "bootstrap", "job"), built) == [
        "images:bootstrap",
        "compose_jobs",
    ]
    # A service whose image is pulled has no image task.
    assert tasks_for("compose", Action("rebuild", "proxy", "service"), built) == ["compose_up_services"]


def test_restart_and_run_all_stale() -> None:
    assert tasks_for("compose", Action("restart", "engine", "service"), set()) == [
        "restart",
        "service=engine",
    ]
    assert tasks_for("compose", Action("stale"), set()) == ["compose_up"]
    assert tasks_for("minikube", Action("stale"), set()) == ["minikube_up"]
    assert tasks_for("minikube", Action("rebuild", "web", "service"), set()) == ["minikube_up"]


def test_what_the_page_does_not_offer_is_refused() -> None:
    with pytest.raises(StackError, match="no 'restart' for a job on runtime compose"):
        tasks_for("compose", Action("restart", "bootstrap", "job"), set())
    with pytest.raises(StackError, match="no 'restart' for a service on runtime minikube"):
        tasks_for("minikube", Action("restart", "web", "service"), set())
    with pytest.raises(StackError):
        tasks_for("kubernetes (cloud)", Action("stale"), set())


def test_the_queue_runs_in_order_and_reports_each_result_on_the_board() -> None:
    board = Board(Header("offline", "compose", "-", False))
    ran: list[list[str]] = []

    def runner(args: list[str], echo: object) -> bool:
        ran.append(args)
        return args[0] != "compose_up_dbs"

    queue = Queue(board, "offline", "compose", runner, set())
    queue.submit(Action("rebuild", "redis", "database"))
    queue.submit(Action("stale"))
    deadline = time.monotonic() + 5
    while not queue.idle() and time.monotonic() < deadline:
        time.sleep(0.02)
    queue.stop()
    assert ran == [["compose_up_dbs", "env=offline"], ["compose_up", "env=offline"]]
    assert board.actions == {"rebuild redis": "failed", "stale": "ok"}
    assert board.log("redis") == ["$ doit compose_up_dbs env=offline"]


def test_the_doit_runner_runs_doit_in_the_checkout_and_streams_its_lines() -> None:
    lines: list[str] = []
    assert doit_runner(REPO)(["list"], lines.append) is True
    assert any("compose_up" in line for line in lines)
    assert doit_runner(REPO)(["no_such_task"], lines.append) is False
