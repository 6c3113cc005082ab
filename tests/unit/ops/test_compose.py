"""Compose operations (tasks/ops/compose.py)."""

from __future__ import annotations

from tasks.ops import compose


def test_a_service_still_starting_is_not_running() -> None:
    # After Ctrl-C during `compose up --wait`, the next run must wait for health again.
    states = compose.parse_ps(
        "engine\trunning\tUp 1 second (health: starting)\nredis\trunning\tUp 2 minutes (healthy)\n"
    )
    assert states == {"engine": "starting", "redis": "running"}
