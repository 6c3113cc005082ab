"""Reachability checks and bounded retrying, shared by health and startup."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from typing import TypeVar

from .config import Endpoint

T = TypeVar("T")
Probe = Callable[[], None]
"""Returns if a dependency is usable, raises (any exception) if not."""

log = logging.getLogger(__name__)


def tcp_probe(endpoint: Endpoint, timeout: float = 2.0) -> Probe:
    # A TCP connect is enough for health: it never shares a client connection
    # with request threads (pika connections are not thread-safe).
    def probe() -> None:
        with socket.create_connection((endpoint.host, endpoint.port), timeout=timeout):
            pass

    return probe


def run_probes(probes: dict[str, Probe]) -> dict[str, str]:
    """Each dependency name mapped to "ok" or the reason it failed."""
    results: dict[str, str] = {}
    for name, probe in probes.items():
        try:
            probe()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 (any failure means "down": report it)
            results[name] = f"{type(exc).__name__}: {exc}"
    return results


def retry(
    action: Callable[[], T],
    what: str,
    timeout: float,
    interval: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call `action` until it succeeds or `timeout` seconds pass, then re-raise."""
    deadline = clock() + timeout
    while True:
        try:
            return action()
        except Exception as exc:
            if clock() + interval > deadline:
                log.error("%s: giving up after %.0fs: %r", what, timeout, exc)
                raise
            log.warning("%s: not ready (%r), retrying in %.0fs", what, exc, interval)
            sleep(interval)
