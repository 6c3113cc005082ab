from __future__ import annotations

import pytest
from fakes import FakeBroker, FakeRepo, FakeStore
from srvthreds_demo import bootstrap
from srvthreds_demo.common.probes import retry
from srvthreds_demo.engine import handle_event
from srvthreds_demo.persistence_agent import handle_state


def test_engine_updates_state_and_forwards() -> None:
    store, broker = FakeStore(), FakeBroker()
    handle_event({"thread_id": "t", "type": "start"}, store, broker, now=lambda: 5.0)
    state = handle_event({"thread_id": "t", "type": "msg", "data": {"x": 1}}, store, broker, now=lambda: 6.0)
    assert store.get("t") == state
    assert (state["event_count"], state["last_type"], state["data"]) == (2, "msg", {"x": 1})
    assert [q for q, _ in broker.published] == ["persistence", "persistence"]
    assert broker.published[-1][1] == state


def test_engine_rejects_invalid_event_without_side_effects() -> None:
    store, broker = FakeStore(), FakeBroker()
    with pytest.raises((ValueError, TypeError)):
        handle_event({"type": "x"}, store, broker)
    assert store.threads == {} and broker.published == []


def test_persistence_upserts() -> None:
    repo = FakeRepo()
    handle_state({"thread_id": "t", "event_count": 1}, repo)
    handle_state({"thread_id": "t", "event_count": 2}, repo)
    assert repo.docs == {"t": {"thread_id": "t", "event_count": 2}}
    with pytest.raises(TypeError):
        handle_state({"event_count": 1}, repo)


def direct(action: object, what: str) -> None:
    action()  # type: ignore[operator]


def test_bootstrap_is_idempotent_and_skips_disabled_mongo() -> None:
    broker, store, repo = FakeBroker(), FakeStore(), FakeRepo()
    first = bootstrap.run(broker, store, repo, direct)
    second = bootstrap.run(broker, store, repo, direct)
    assert first == second == ["queue events", "queue persistence", "redis config", "mongodb indexes"]
    assert store.config == {"version": "1", "queues": "events,persistence"}
    assert bootstrap.run(FakeBroker(), FakeStore(), None, direct)[-1] == "redis config"


def test_retry_is_bounded() -> None:
    clock = [0.0]
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("not yet")
        return "ok"

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    assert retry(flaky, "x", timeout=10, interval=2, sleep=sleep, clock=lambda: clock[0]) == "ok"

    def never() -> None:
        raise ConnectionError("never")

    clock[0] = 0.0
    with pytest.raises(ConnectionError):
        retry(never, "x", timeout=5, interval=2, sleep=sleep, clock=lambda: clock[0])
    assert clock[0] <= 5
