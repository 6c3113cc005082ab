"""tasks/ops/compose.py: what a Compose stack's state says (from `docker-compose ps`)."""

from __future__ import annotations

from tasks.ops import compose
from tasks.ops import compose as cops


def test_a_service_still_starting_is_not_running() -> None:
    # After Ctrl-C during `compose up --wait`, the next run must wait for health again.
    states = compose.parse_ps(
        "engine\trunning\tUp 1 second (health: starting)\nredis\trunning\tUp 2 minutes (healthy)\n"
    )
    assert states == {"engine": "starting", "redis": "running"}


def test_failing_picks_the_broken_service_not_the_ones_still_starting() -> None:
    rows = [
        {"Service": "redis", "State": "running", "Health": "starting"},
        {"Service": "rabbitmq", "State": "restarting", "Health": ""},
    ]
    assert cops.failing(rows, ["redis", "rabbitmq"]) == ["rabbitmq"]
    # A timeout: nothing broken, the slow one is named.
    assert cops.failing(rows[:1], ["redis"]) == ["redis"]
    # A container that was never created (e.g. its port was taken) counts as broken.
    assert cops.failing([], ["session-agent"]) == ["session-agent"]


def test_parse_ps_treats_unhealthy_as_not_running() -> None:
    states = cops.parse_ps(
        "redis\trunning\tUp 2 minutes (healthy)\nengine\trunning\tUp 1 minute (unhealthy)\n"
    )
    assert states == {"redis": "running", "engine": "unhealthy"}


def test_compose_ps_json_both_formats() -> None:
    assert cops.parse_compose_ps('[{"Service": "a"}]') == [{"Service": "a"}]
    assert cops.parse_compose_ps('{"Service": "a"}\n{"Service": "b"}\n') == [
        {"Service": "a"},
        {"Service": "b"},
    ]
    assert cops.parse_compose_ps("") == []
