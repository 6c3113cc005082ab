"""Redis adapter (Debian's python3-redis), imported lazily."""

from __future__ import annotations

import json
from typing import Any

from .config import Endpoint
from .threads import ThreadState

KEY_PREFIX = "srvthreds:thread:"
CONFIG_KEY = "srvthreds:config"


def connect(endpoint: Endpoint) -> Any:
    import redis  # type: ignore[import-not-found, unused-ignore]  # lazy: images only

    return redis.Redis(
        host=endpoint.host,
        port=endpoint.port,
        decode_responses=True,
        socket_connect_timeout=3,
        socket_timeout=5,
    )


class RedisThreadStore:
    """Thread state as one JSON string per thread: read and replaced whole."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def get(self, thread_id: str) -> ThreadState | None:
        raw = self._client.get(KEY_PREFIX + thread_id)
        return None if raw is None else dict(json.loads(raw))

    def put(self, state: ThreadState) -> None:
        self._client.set(KEY_PREFIX + state["thread_id"], json.dumps(state, sort_keys=True))

    def ping(self) -> None:
        self._client.ping()

    def seed_config(self, config: dict[str, str]) -> None:
        # HSET of fixed values: rerunning bootstrap writes the same thing.
        self._client.hset(CONFIG_KEY, mapping=config)
