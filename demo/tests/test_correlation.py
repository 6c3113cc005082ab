"""One event's correlation id: created by session-agent, sent with each queue message (AMQP's
correlation_id property), and logged by every service that handles the event."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fakes import FakeBroker, FakeRepo, FakeStore
from srvthreds_demo.common import logs, rabbit
from srvthreds_demo.engine import handle_event
from srvthreds_demo.persistence_agent import handle_state
from srvthreds_demo.session_agent import make_app


class FakeChannel:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, bool | None]] = []

    def basic_ack(self, delivery_tag: int) -> None:
        self.calls.append(("ack", delivery_tag, None))

    def basic_reject(self, delivery_tag: int, requeue: bool) -> None:
        self.calls.append(("reject", delivery_tag, requeue))

    def basic_nack(self, delivery_tag: int, requeue: bool) -> None:
        self.calls.append(("nack", delivery_tag, requeue))


METHOD = SimpleNamespace(delivery_tag=7)


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def as_service(name: str) -> io.StringIO:
    """Log as service `name` from now on; its JSON lines land in the returned buffer."""
    out = io.StringIO()
    logs.setup(name, "info", stream=out)
    return out


def entries(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def deliver(message: dict[str, Any], correlation_id: str | None, handler: rabbit.Handler) -> FakeChannel:
    channel = FakeChannel()
    props = SimpleNamespace(correlation_id=correlation_id)
    rabbit.deliver("q", handler, channel, METHOD, props, json.dumps(message).encode())
    return channel


def test_one_event_is_logged_under_one_id_by_every_service_that_handles_it(root_logging: None) -> None:
    front, store, repo = FakeBroker(), FakeStore(), FakeRepo()
    agent_log = as_service("session-agent")
    status, body = make_app(front, store, {})("POST", "/events", b'{"thread_id": "t1", "type": "start"}')
    assert status == 202
    correlation_id = body["correlation_id"]
    assert front.correlation_ids == [correlation_id]

    engine_log, forward = as_service("engine"), FakeBroker()
    (queue, event), sent_id = front.published[0], front.correlation_ids[0]
    assert queue == "events"
    assert deliver(event, sent_id, lambda m: handle_event(m, store, forward)).calls == [("ack", 7, None)]
    assert forward.correlation_ids == [correlation_id]  # passed on to the next queue

    persistence_log = as_service("persistence-agent")
    persisted = deliver(forward.published[0][1], forward.correlation_ids[0], lambda m: handle_state(m, repo))
    assert persisted.calls == [("ack", 7, None)]
    assert repo.docs["t1"]["event_count"] == 1

    for name, out in [
        ("session-agent", agent_log),
        ("engine", engine_log),
        ("persistence-agent", persistence_log),
    ]:
        lines = entries(out)
        assert lines, name
        assert all(e["service"] == name and e["correlation_id"] == correlation_id for e in lines), lines
    assert logs.current_id() is None  # nothing leaks into the next event


def test_each_accepted_event_gets_its_own_id_and_a_refused_one_still_tells_it(root_logging: None) -> None:
    as_service("session-agent")
    broker = FakeBroker()
    app = make_app(broker, FakeStore(), {})
    first = app("POST", "/events", b'{"thread_id": "t", "type": "a"}')[1]["correlation_id"]
    second = app("POST", "/events", b'{"thread_id": "t", "type": "b"}')[1]["correlation_id"]
    assert first != second and broker.correlation_ids == [first, second]
    status, body = make_app(FakeBroker(fail=True), FakeStore(), {})(
        "POST", "/events", b'{"thread_id": "t", "type": "x"}'
    )
    assert status == 503 and len(body["correlation_id"]) == 32


def test_a_message_without_an_id_is_handled_under_a_new_one(root_logging: None) -> None:
    out = as_service("engine")
    seen: list[str | None] = []
    deliver({"thread_id": "t"}, None, lambda m: seen.append(logs.current_id()))
    assert seen[0] is not None and len(seen[0]) == 32
    assert rabbit.properties() == {"content_type": "application/json", "delivery_mode": 2}
    assert out.getvalue() == ""


def test_a_dropped_message_is_logged_under_its_id(root_logging: None) -> None:
    out = as_service("engine")
    channel = FakeChannel()
    rabbit.deliver(
        "events", lambda m: None, channel, METHOD, SimpleNamespace(correlation_id="c-9"), b"not json"
    )
    assert channel.calls == [("reject", 7, False)]
    (line,) = entries(out)
    assert (line["level"], line["correlation_id"]) == ("error", "c-9")
    assert deliver({"x": 1}, "c-8", lambda m: handle_event(m, FakeStore(), FakeBroker())).calls == [
        ("reject", 7, False)
    ]


def test_a_failing_handler_is_requeued_and_its_error_raised(root_logging: None) -> None:
    as_service("engine")

    def broken(message: Any) -> None:
        raise ConnectionError("redis gone")

    channel = FakeChannel()
    with pytest.raises(ConnectionError):
        rabbit.deliver("events", broken, channel, METHOD, SimpleNamespace(correlation_id="c"), b"{}")
    assert channel.calls == [("nack", 7, True)]


def test_a_publish_while_handling_an_event_carries_its_id() -> None:
    with logs.correlated("c-5"):
        assert rabbit.properties()["correlation_id"] == "c-5"
