from __future__ import annotations

import json
import urllib.error
import urllib.request

from fakes import FakeBroker, FakeStore, down
from srvthreds_demo.common import web
from srvthreds_demo.session_agent import make_app


def test_post_event_publishes_to_events_queue() -> None:
    broker, store = FakeBroker(), FakeStore()
    app = make_app(broker, store, {})
    status, body = app("POST", "/events", b'{"thread_id": "t1", "type": "start", "data": {"k": 1}}')
    correlation_id = body.pop("correlation_id")
    assert (status, body) == (202, {"accepted": True, "thread_id": "t1"})
    assert broker.published == [("events", {"thread_id": "t1", "type": "start", "data": {"k": 1}})]
    assert broker.correlation_ids == [correlation_id] and len(correlation_id) == 32


def test_bad_event_is_400_and_broker_down_is_503() -> None:
    assert make_app(FakeBroker(), FakeStore(), {})("POST", "/events", b"{}")[0] == 400
    assert (
        make_app(FakeBroker(fail=True), FakeStore(), {})(
            "POST", "/events", b'{"thread_id": "t", "type": "x"}'
        )[0]
        == 503
    )


def test_get_thread() -> None:
    store = FakeStore()
    store.put({"thread_id": "t1", "event_count": 1})
    app = make_app(FakeBroker(), store, {})
    assert app("GET", "/threads/t1", b"") == (200, {"thread_id": "t1", "event_count": 1})
    assert app("GET", "/threads/none", b"")[0] == 404
    assert app("GET", "/nowhere", b"")[0] == 404


def test_healthz_names_what_is_down() -> None:
    ok = make_app(FakeBroker(), FakeStore(), {"redis": lambda: None, "rabbitmq": lambda: None})
    assert ok("GET", "/healthz", b"")[0] == 200
    bad = make_app(FakeBroker(), FakeStore(), {"redis": lambda: None, "rabbitmq": down})
    status, body = bad("GET", "/healthz", b"")
    assert status == 503 and body["down"] == ["rabbitmq"]


def test_over_real_http_on_loopback() -> None:
    broker = FakeBroker()
    server = web.serve_in_background(make_app(broker, FakeStore(), {"redis": down}), 0)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        request = urllib.request.Request(
            base + "/events", method="POST", data=b'{"thread_id": "t", "type": "x"}'
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 202
        try:
            urllib.request.urlopen(base + "/healthz", timeout=5)
            raise AssertionError("expected 503")
        except urllib.error.HTTPError as exc:
            assert exc.code == 503
            assert json.loads(exc.read())["down"] == ["redis"]
            exc.close()
    finally:
        server.shutdown()
        server.server_close()
    assert broker.published[0][0] == "events"
