"""tasks/ui/board.py: the page's state: masked log lines, bounded tails, what a client gets."""

from __future__ import annotations

import tracemalloc

from tasks.ops.compose import MASK
from tasks.ui.board import Board, Header, Item

HEADER = Header("offline", "compose", "abc1234", False)


def _item(verdict: str = "ok", reason: str = "") -> Item:
    return Item("engine", "service", "srv/engine:1", False, "1", "1", verdict, reason)


def test_a_secret_value_in_a_log_line_is_masked_before_it_is_kept() -> None:
    board = Board(HEADER, secrets=["s3cr3t-value"])
    board.add_lines("engine", ["connecting with password s3cr3t-value to redis"])
    assert board.log("engine") == [f"connecting with password {MASK} to redis"]
    assert "s3cr3t-value" not in str(board.snapshot())


def test_each_tail_keeps_only_the_last_lines() -> None:
    board = Board(HEADER, lines=3)
    board.add_lines("engine", [f"line {i}" for i in range(10)])
    assert board.log("engine") == ["line 7", "line 8", "line 9"]


def test_memory_stays_flat_over_a_thousand_lines_per_service() -> None:
    board = Board(HEADER, lines=200)
    tracemalloc.start()
    for i in range(1000):
        board.add_lines("engine", [f"engine line {i:06d} " + "x" * 80])
        if i == 299:
            after_300 = tracemalloc.get_traced_memory()[0]
    after_1000 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(board.log("engine")) == 200
    assert after_1000 - after_300 < 16 * 1024  # 700 more lines, no more memory held


def test_a_snapshot_sends_only_the_lines_after_the_version_a_client_saw() -> None:
    board = Board(HEADER)
    board.add_lines("engine", ["one"])
    seen = board.snapshot()["version"]
    board.add_lines("engine", ["two"])
    board.add_lines("redis", ["ready"])
    assert board.snapshot(since=seen)["logs"] == {"engine": ["two"], "redis": ["ready"]}
    assert board.snapshot()["logs"] == {"engine": ["one", "two"], "redis": ["ready"]}


def test_rows_change_the_version_only_when_they_differ() -> None:
    board = Board(HEADER)
    board.set_rows([_item()])
    first = board.version
    board.set_rows([_item()])
    assert board.version == first
    board.set_rows([_item("failed", "exited")])
    assert board.version == first + 1
    assert board.snapshot()["rows"][0]["reason"] == "exited"


def test_an_error_reading_the_state_is_masked_too() -> None:
    board = Board(HEADER, secrets=["hunter2"])
    board.set_rows([], "login refused for hunter2")
    assert board.snapshot()["error"] == f"login refused for {MASK}"


def test_terminal_control_sequences_do_not_reach_the_page() -> None:
    board = Board(HEADER)
    board.add_lines("engine", ["[compose] engine Healthy\x1b[K done", "bell\x07"])
    assert board.log("engine") == ["[compose] engine Healthy done", "bell"]
