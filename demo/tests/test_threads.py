from __future__ import annotations

import pytest
from srvthreds_demo.common.threads import Event, apply_event, parse_event


def test_parse_event_accepts_bytes_and_defaults_data() -> None:
    assert parse_event(b'{"thread_id": "t1", "type": "start"}') == Event("t1", "start", {})


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"type": "x"}',
        b'{"thread_id": "a/b", "type": "x"}',
        b'{"thread_id": "t", "type": ""}',
        b'{"thread_id": "t", "type": "x", "data": 3}',
    ],
)
def test_parse_event_rejects(body: bytes) -> None:
    with pytest.raises((ValueError, TypeError)):
        parse_event(body)


def test_apply_event_sequence() -> None:
    s1 = apply_event(None, Event("t", "start", {"a": 1}), now=1.0)
    assert s1 == {
        "thread_id": "t",
        "event_count": 1,
        "status": "open",
        "last_type": "start",
        "data": {"a": 1},
        "created_at": 1.0,
        "updated_at": 1.0,
    }
    s2 = apply_event(s1, Event("t", "close", {"b": 2}), now=2.0)
    assert (s2["event_count"], s2["status"], s2["data"]) == (2, "closed", {"a": 1, "b": 2})
    assert s1["event_count"] == 1  # input untouched


def test_closed_thread_only_counts() -> None:
    closed = apply_event(None, Event("t", "close"), now=1.0)
    late = apply_event(closed, Event("t", "reopen", {"z": 1}), now=3.0)
    assert (late["status"], late["last_type"], late["data"]) == ("closed", "close", {})
    assert (late["event_count"], late["updated_at"]) == (2, 3.0)
