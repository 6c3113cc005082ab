"""In-memory stand-ins for the adapters, used through the services' seams."""

from __future__ import annotations

import copy
from typing import Any

from srvthreds_demo.common import rabbit
from srvthreds_demo.common.threads import ThreadState


class FakeBroker:
    def __init__(self, fail: bool = False) -> None:
        self.declared: list[str] = []
        self.published: list[tuple[str, dict[str, Any]]] = []
        # The correlation_id property PikaBroker would send with each (rabbit.properties).
        self.correlation_ids: list[str | None] = []
        self.fail = fail

    def declare(self, queue: str) -> None:
        if self.fail:
            raise ConnectionError("broker down")
        self.declared.append(queue)

    def publish(self, queue: str, message: dict[str, Any]) -> None:
        if self.fail:
            raise ConnectionError("broker down")
        self.published.append((queue, copy.deepcopy(message)))
        self.correlation_ids.append(rabbit.properties().get("correlation_id"))


class FakeStore:
    def __init__(self) -> None:
        self.threads: dict[str, ThreadState] = {}
        self.config: dict[str, str] = {}

    def get(self, thread_id: str) -> ThreadState | None:
        state = self.threads.get(thread_id)
        return None if state is None else copy.deepcopy(state)

    def put(self, state: ThreadState) -> None:
        self.threads[state["thread_id"]] = copy.deepcopy(state)

    def ping(self) -> None:
        pass

    def seed_config(self, config: dict[str, str]) -> None:
        self.config.update(config)


class FakeRepo:
    def __init__(self) -> None:
        self.docs: dict[str, ThreadState] = {}
        self.index_calls = 0

    def upsert(self, state: ThreadState) -> None:
        self.docs[state["thread_id"]] = dict(state)

    def ensure_indexes(self) -> None:
        self.index_calls += 1


def down() -> None:
    raise ConnectionRefusedError("refused")
