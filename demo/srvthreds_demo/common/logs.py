"""One log format for all services: one JSON object per line, with the correlation id of the
event being handled, so one event can be followed through every service that touches it.

    {"time": "2026-12-07T11:00:00.123Z", "service": "engine", "level": "info",
     "logger": "srvthreds_demo.engine", "message": "...", "correlation_id": "3f2a..."}

The id is created where an event enters (session-agent's POST /events, or a queue message that
came without one), travels with the message (rabbit.py: AMQP's `correlation_id` property) and
is bound, while that event is handled, to the context of the thread handling it (`correlated`):
every line logged meanwhile carries it, whichever module logs it.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

_CURRENT: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def new_id() -> str:
    """A fresh correlation id (32 hex digits)."""
    return uuid.uuid4().hex


def current_id() -> str | None:
    """The correlation id of the event this thread is handling, if any."""
    return _CURRENT.get()


@contextmanager
def correlated(correlation_id: str | None) -> Iterator[str]:
    """Handle one event under `correlation_id` (a new one when None or empty)."""
    bound = correlation_id or new_id()
    token = _CURRENT.set(bound)
    try:
        yield bound
    finally:
        _CURRENT.reset(token)


class JsonFormatter(logging.Formatter):
    """A record as one JSON line: time (UTC, ms), service, level, logger, message, the
    correlation id when an event is being handled, and the traceback of an exception."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, tz=UTC)
        entry = {
            "time": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "service": self.service,
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        correlation_id = current_id()
        if correlation_id:
            entry["correlation_id"] = correlation_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup(service: str, level: str, stream: TextIO | None = None) -> logging.Logger:
    """Every record of the process as a JSON line on `stream` (stderr), from `level` up."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]  # a fresh child after SIGHUP (serve.py) sets it up again
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # pika logs every connection step at INFO; only its problems are worth reading.
    logging.getLogger("pika").setLevel(logging.WARNING)
    return logging.getLogger(service)
