"""Every service logs one JSON object per line, with the correlation id of the event it handles."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from srvthreds_demo.common import logs


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Put the root logger back as the test found it (setup replaces its handlers)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_is_json_with_time_service_level_logger_and_message(root_logging: None) -> None:
    out = io.StringIO()
    log = logs.setup("engine", "info", stream=out)
    log.warning("thread %s: %d events", "t1", 2)
    (entry,) = lines(out)
    assert entry == {
        "time": entry["time"],
        "service": "engine",
        "level": "warning",
        "logger": "engine",
        "message": "thread t1: 2 events",
    }
    assert isinstance(entry["time"], str) and entry["time"].endswith("Z") and "T" in entry["time"]


def test_lines_logged_while_an_event_is_handled_carry_its_id(root_logging: None) -> None:
    out = io.StringIO()
    logs.setup("engine", "info", stream=out)
    other = logging.getLogger("srvthreds_demo.common.rabbit")
    with logs.correlated("c-1") as bound:
        other.info("inside")
        assert bound == logs.current_id() == "c-1"
    other.info("outside")
    inside, outside = lines(out)
    assert (inside["correlation_id"], inside["logger"]) == ("c-1", "srvthreds_demo.common.rabbit")
    assert "correlation_id" not in outside and logs.current_id() is None


def test_an_event_without_an_id_gets_a_new_one_and_nesting_restores_the_outer(root_logging: None) -> None:
    with logs.correlated(None) as outer:
        assert len(outer) == 32 and outer != logs.new_id()
        with logs.correlated("") as inner:
            assert inner not in (outer, "") and logs.current_id() == inner
        assert logs.current_id() == outer


def test_the_level_hides_what_is_below_it_and_an_exception_keeps_its_traceback(root_logging: None) -> None:
    out = io.StringIO()
    log = logs.setup("engine", "warning", stream=out)
    log.info("hidden")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("handler failed")
    (entry,) = lines(out)
    assert entry["level"] == "error" and entry["message"] == "handler failed"
    assert "RuntimeError: boom" in str(entry["exception"])


def test_a_second_setup_replaces_the_handler_instead_of_doubling_lines(root_logging: None) -> None:
    first, second = io.StringIO(), io.StringIO()
    logs.setup("engine", "info", stream=first)
    logs.setup("engine", "info", stream=second).info("once")
    assert first.getvalue() == "" and len(lines(second)) == 1
