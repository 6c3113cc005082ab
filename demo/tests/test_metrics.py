"""What a service serves at /metrics: requests by code, their durations, messages processed
and failed, and a queue's depth, in Prometheus text format."""

from __future__ import annotations

import json
import math
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from srvthreds_demo.common import metrics, web


def value(name: str, **labels: str) -> float:
    found = metrics.REGISTRY.get_sample_value(name, labels)
    return 0.0 if found is None else found


@pytest.fixture
def server() -> Iterator[str]:
    def app(method: str, path: str, body: bytes) -> web.Response:
        if path == "/boom":
            raise RuntimeError("boom")
        return (200, {"ok": True}) if path == "/ok" else (404, {"error": "not found"})

    srv = web.make_server(app, 0, host="127.0.0.1")
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def test_requests_are_counted_by_code_and_timed_and_served_as_text(server: str) -> None:
    ok = value("http_requests_total", code="200", method="GET")
    missing = value("http_requests_total", code="404", method="GET")
    timed = value("http_request_duration_seconds_count")
    assert get(server + "/ok")[0] == 200
    assert get(server + "/nowhere")[0] == 404
    status, kind, body = get(server + "/metrics")
    assert status == 200 and kind.startswith("text/plain")
    text = body.decode()
    assert 'http_requests_total{code="200",method="GET"}' in text
    assert "http_request_duration_seconds_bucket" in text
    assert value("http_requests_total", code="200", method="GET") == ok + 1  # the scrape is not counted
    assert value("http_requests_total", code="404", method="GET") == missing + 1
    assert value("http_request_duration_seconds_count") == timed + 2


def test_a_failing_request_counts_as_a_500(server: str) -> None:
    before = value("http_requests_total", code="500", method="GET")
    status, kind, body = get(server + "/boom")
    assert status == 500 and kind == "application/json" and json.loads(body) == {"error": "internal error"}
    assert value("http_requests_total", code="500", method="GET") == before + 1


def test_messages_are_counted_as_processed_dropped_or_requeued() -> None:
    def handler(message: Any) -> None:
        if message == "bad":
            raise ValueError("malformed")
        if message == "down":
            raise ConnectionError("redis away")

    handle = metrics.consumed("jobs", handler)
    done = value("srvthreds_events_processed_total", queue="jobs")
    dropped = value("srvthreds_events_failed_total", queue="jobs", outcome="dropped")
    requeued = value("srvthreds_events_failed_total", queue="jobs", outcome="requeued")
    handle({"thread_id": "t"})
    with pytest.raises(ValueError):
        handle("bad")
    with pytest.raises(ConnectionError):
        handle("down")
    assert value("srvthreds_events_processed_total", queue="jobs") == done + 1
    assert value("srvthreds_events_failed_total", queue="jobs", outcome="dropped") == dropped + 1
    assert value("srvthreds_events_failed_total", queue="jobs", outcome="requeued") == requeued + 1


def test_queue_depth_is_read_at_each_scrape_and_is_nan_when_unreadable() -> None:
    depths: list[int | Exception] = [3, 7, ConnectionError("broker away")]

    def depth() -> int:
        now = depths.pop(0)
        if isinstance(now, Exception):
            raise now
        return now

    metrics.watch_queue("work", depth)
    assert value("srvthreds_queue_messages", queue="work") == 3
    assert b'srvthreds_queue_messages{queue="work"} 7.0' in metrics.page()[0]
    assert math.isnan(value("srvthreds_queue_messages", queue="work"))
