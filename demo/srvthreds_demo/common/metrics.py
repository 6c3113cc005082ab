"""Prometheus metrics of one service, in the names the stack's alerts and dashboards read
(docs/operations.md, "Monitoring"), from Debian's python3-prometheus-client.

- `http_requests_total{code,method}` and `http_request_duration_seconds`: every request the
  service's HTTP server answers (web.py), but the scrapes of /metrics themselves; a 5xx code
  is an error.
- `srvthreds_events_processed_total{queue}`: messages a consumer handled and acknowledged;
  `srvthreds_events_failed_total{queue,outcome}`: those it dropped (malformed) or requeued.
- `srvthreds_queue_messages{queue}`: messages waiting in a queue, read when scraped.

The metrics live in this module's own registry, not the library's global one: a reload
(serve.py) imports this module again, and tests import it once per process.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

log = logging.getLogger(__name__)
PATH = "/metrics"

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered, by status code", ["code", "method"], registry=REGISTRY
)
DURATION = Histogram("http_request_duration_seconds", "Time to answer one HTTP request", registry=REGISTRY)
PROCESSED = Counter(
    "srvthreds_events_processed_total", "Messages handled and acknowledged", ["queue"], registry=REGISTRY
)
FAILED = Counter(
    "srvthreds_events_failed_total",
    "Messages not handled: dropped (malformed) or requeued (the handler failed)",
    ["queue", "outcome"],
    registry=REGISTRY,
)
QUEUE = Gauge("srvthreds_queue_messages", "Messages waiting in the queue", ["queue"], registry=REGISTRY)

R = TypeVar("R", bound=tuple[int, Any])


def page() -> tuple[bytes, str]:
    """The body of GET /metrics and its content type (Prometheus text format)."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def instrumented(app: Callable[[str, str, bytes], R]) -> Callable[[str, str, bytes], R]:
    """`app` that counts and times each answer; one that raises counts as a 500."""

    def counted(method: str, path: str, body: bytes) -> R:
        started, code = time.perf_counter(), 500
        try:
            answer = app(method, path, body)
            code = answer[0]
            return answer
        finally:
            REQUESTS.labels(code=str(code), method=method).inc()
            DURATION.observe(time.perf_counter() - started)

    return counted


def consumed(queue: str, handler: Callable[[Any], object]) -> Callable[[Any], None]:
    """`handler` of messages of `queue` that counts each outcome: ValueError/TypeError mean
    dropped (rabbit.py rejects the message), any other exception requeued."""

    def handle(message: Any) -> None:
        try:
            handler(message)
        except (ValueError, TypeError):
            FAILED.labels(queue=queue, outcome="dropped").inc()
            raise
        except Exception:
            FAILED.labels(queue=queue, outcome="requeued").inc()
            raise
        PROCESSED.labels(queue=queue).inc()

    return handle


def watch_queue(queue: str, depth: Callable[[], int]) -> None:
    """Report `depth()` as the gauge of `queue` at each scrape. A depth that cannot be read
    (the broker is away) is NaN, never a failed scrape: that would read as the service down."""

    def read() -> float:
        try:
            return float(depth())
        except Exception as exc:  # noqa: BLE001 (any failure to read: no value this scrape)
            log.debug("depth of queue %s unknown: %s", queue, exc)
            return math.nan

    QUEUE.labels(queue=queue).set_function(read)
