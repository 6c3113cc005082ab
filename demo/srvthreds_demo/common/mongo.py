"""MongoDB adapter (Debian's python3-pymongo), imported lazily."""

from __future__ import annotations

from typing import Any

from .config import Endpoint
from .threads import ThreadState

COLLECTION = "threads"


def connect(endpoint: Endpoint, database: str) -> Any:
    import pymongo  # type: ignore[import-not-found, unused-ignore]  # lazy: images only

    # directConnection: talk to the one member we were given even when it is part
    # of a replica set whose advertised host names we may not resolve.
    client = pymongo.MongoClient(
        endpoint.host, endpoint.port, directConnection=True, serverSelectionTimeoutMS=5000
    )
    return client[database]


class MongoThreadRepository:
    """Durable copy of thread state, one document per thread."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def upsert(self, state: ThreadState) -> None:
        doc = dict(state)
        self._db[COLLECTION].replace_one({"thread_id": doc["thread_id"]}, doc, upsert=True)

    def ensure_indexes(self) -> None:
        # create_index is a no-op when an identical index exists: idempotent.
        self._db[COLLECTION].create_index("thread_id", unique=True)
        self._db[COLLECTION].create_index("status")

    def ping(self) -> None:
        self._db.command("ping")
