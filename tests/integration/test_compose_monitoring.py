"""Prometheus in the offline Compose stack, for real: `doit compose_up env=offline` on a scratch
copy starts it beside the databases (the environment lists `components: [monitoring]`), and its
HTTP API shows every service that declares `metrics` scraped and up, the events processed rising
after one event's round trip through session-agent -> RabbitMQ -> engine, and the engine's queue
depth read from RabbitMQ.

Needs host ports 3000, 6379, 5672 and 9090 (loopback) free. The stack comes up once per module.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tasks.config import load as config
from tasks.programs import tools
from testing.compose_stack import ENV, containers, scratch_stack

AGENT = "http://127.0.0.1:3000"
PROMETHEUS = "http://127.0.0.1:9090"
PROCESSED = 'sum(srvthreds_events_processed_total{service="engine"})'
T = TypeVar("T")
pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.usefixtures("docker_daemon")]


def request(url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def query(promql: str) -> list[dict[str, Any]]:
    """The instant vector Prometheus answers for `promql`: [{metric: {...}, value: [t, "v"]}]."""
    status, body = request(f"{PROMETHEUS}/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
    assert status == 200 and body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def until(what: str, check: Callable[[], T | None], seconds: float = 90) -> T:
    """Ask `check` until it answers (not None) or `seconds` pass: a scrape comes every 10 s."""
    deadline = time.monotonic() + seconds
    while (answer := check()) is None:
        assert time.monotonic() < deadline, f"{what}: not within {seconds:g} s"
        time.sleep(1)
    return answer


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, docker_daemon: None) -> Iterator[Path]:
    """A scratch copy with the stack up; torn down (volumes too) whatever happens."""
    with scratch_stack(tmp_path_factory.mktemp("monitoring") / "project") as dest:
        yield dest


@pytest.fixture(scope="module")
def monitored(project: Path) -> set[str]:
    """The services of the environment that declare where they serve their metrics."""
    names = {svc.name for svc in config.load(ENV, project).monitored()}
    assert names, "the offline environment runs no service that declares metrics"
    return names


def up_jobs(expected: set[str]) -> dict[str, str] | None:
    found = {r["metric"]["job"]: r["value"][1] for r in query("up")}
    return found if expected <= {job for job, value in found.items() if value == "1"} else None


def test_prometheus_is_published_on_loopback_only(project: Path) -> None:
    bound = tools.run("docker", "port", containers()["prometheus"], "9090/tcp").stdout.split()
    assert bound == ["127.0.0.1:9090"]


def test_every_service_that_declares_metrics_is_scraped_and_up(project: Path, monitored: set[str]) -> None:
    found = until("every service that declares metrics up", lambda: up_jobs(monitored))
    assert set(found) == monitored  # nothing else is scraped: the disabled service neither


def test_events_processed_rise_after_an_event_round_trip(project: Path, monitored: set[str]) -> None:
    until("engine scraped", lambda: up_jobs({"engine"}))
    # The counter's series appears with the engine's first message: none yet reads as 0.
    before = sum(float(r["value"][1]) for r in query(PROCESSED))
    thread = f"it-{uuid.uuid4().hex[:8]}"
    status, body = request(AGENT + "/events", {"thread_id": thread, "type": "created", "data": {}})
    assert status == 202, body
    until(
        "the engine handled the event", lambda: 1 if request(f"{AGENT}/threads/{thread}")[0] == 200 else None
    )

    def risen() -> float | None:
        now = sum(float(r["value"][1]) for r in query(PROCESSED))
        return now if now > before else None

    assert until("events processed rising in Prometheus", risen) >= before + 1
    # session-agent counted the accepted POST by its status code.
    assert until(
        "202s counted", lambda: query('http_requests_total{service="session-agent",code="202"}') or None
    )


def test_the_engines_queue_depth_is_read_from_the_broker(project: Path) -> None:
    until("engine scraped", lambda: up_jobs({"engine"}))
    series = until(
        "queue depth scraped",
        lambda: query('srvthreds_queue_messages{service="engine",queue="events"}') or None,
    )
    assert series[0]["value"][1] != "NaN", series  # NaN: the depth could not be read
    assert float(series[0]["value"][1]) >= 0
