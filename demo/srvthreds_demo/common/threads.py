"""The domain: events move a thread through its states. Pure, no I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

EVENTS_QUEUE = "events"
PERSISTENCE_QUEUE = "persistence"
QUEUES = (EVENTS_QUEUE, PERSISTENCE_QUEUE)

# A closed thread stays closed: later events are counted but change nothing else,
# so a late or replayed event cannot resurrect it.
CLOSING_TYPES = frozenset({"close", "closed", "complete"})

ThreadState = dict[str, Any]


@dataclass(frozen=True)
class Event:
    thread_id: str
    type: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"thread_id": self.thread_id, "type": self.type, "data": self.data}


def parse_event(payload: Any) -> Event:
    """Validate an event from JSON; ValueError/TypeError says what is wrong."""
    if isinstance(payload, (bytes, str)):
        try:
            payload = json.loads(payload)
        except json.JSONDecodeError as exc:
            raise ValueError(f"body is not JSON: {exc.msg}") from None
    if not isinstance(payload, dict):
        raise TypeError("event must be a JSON object")
    thread_id, kind, data = payload.get("thread_id"), payload.get("type"), payload.get("data", {})
    if not isinstance(thread_id, str) or not thread_id or "/" in thread_id:
        raise ValueError("thread_id must be a non-empty string without '/'")
    if not isinstance(kind, str) or not kind:
        raise ValueError("type must be a non-empty string")
    if not isinstance(data, dict):
        raise TypeError("data must be a JSON object")
    return Event(thread_id, kind, data)


def apply_event(state: ThreadState | None, event: Event, now: float) -> ThreadState:
    """The next state of a thread after `event`; `state` is not modified."""
    if state is None:
        state = {
            "thread_id": event.thread_id,
            "event_count": 0,
            "status": "open",
            "data": {},
            "created_at": now,
        }
    new = dict(state, event_count=int(state["event_count"]) + 1, updated_at=now)
    if state["status"] == "closed":
        return new
    new["last_type"] = event.type
    new["data"] = {**state["data"], **event.data}
    if event.type in CLOSING_TYPES:
        new["status"] = "closed"
    return new


class ThreadStore(Protocol):
    """Where the engine keeps live thread state (Redis in the images)."""

    def get(self, thread_id: str) -> ThreadState | None: ...

    def put(self, state: ThreadState) -> None: ...

    def ping(self) -> None: ...
