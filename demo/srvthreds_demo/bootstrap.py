"""bootstrap: one-shot setup before the services start; safe to run again.

Declares the durable queues, seeds configuration into Redis and, when MongoDB is
configured, creates its indexes. Waits a bounded time for each dependency.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Protocol

from .common import logs, mongo, rabbit, redis_store
from .common.config import Settings
from .common.probes import retry
from .common.threads import QUEUES

log = logging.getLogger(__name__)
CONFIG_VERSION = "1"


class ConfigStore(Protocol):
    def seed_config(self, config: dict[str, str]) -> None: ...


class Indexed(Protocol):
    def ensure_indexes(self) -> None: ...


def seed_values() -> dict[str, str]:
    return {"version": CONFIG_VERSION, "queues": ",".join(QUEUES)}


def run(
    broker: rabbit.Broker,
    config: ConfigStore,
    repo: Indexed | None,
    attempt: Callable[[Callable[[], None], str], None],
) -> list[str]:
    """Do every step through `attempt` (which retries); return what was done."""
    done: list[str] = []
    for queue in QUEUES:
        attempt(functools.partial(broker.declare, queue), f"declare queue {queue}")
        done.append(f"queue {queue}")
    attempt(lambda: config.seed_config(seed_values()), "seed redis config")
    done.append("redis config")
    if repo is None:
        log.info("MONGO_HOST not set: MongoDB disabled, skipping indexes")
    else:
        attempt(repo.ensure_indexes, "create mongodb indexes")
        done.append("mongodb indexes")
    return done


def main() -> int:
    settings = Settings.from_env()
    logs.setup("bootstrap", settings.log_level)
    timeout = float(os.environ.get("BOOTSTRAP_TIMEOUT", "120"))
    redis_at, rabbit_at = settings.require("redis"), settings.require("rabbitmq")
    broker = rabbit.PikaBroker(rabbit_at, settings.rabbitmq_user, settings.rabbitmq_password)
    config = redis_store.RedisThreadStore(redis_store.connect(redis_at))
    repo = (
        mongo.MongoThreadRepository(mongo.connect(settings.mongo, settings.mongo_db))
        if settings.mongo is not None
        else None
    )

    # One deadline for the whole run, so the bound holds however many steps wait.
    deadline = time.monotonic() + timeout

    def attempt(action: Callable[[], None], what: str) -> None:
        retry(action, what, max(deadline - time.monotonic(), 0.0))

    try:
        done = run(broker, config, repo, attempt)
    except Exception as exc:  # noqa: BLE001 (any failure ends the job with rc 1)
        log.error("bootstrap failed: %s", exc)
        return 1
    finally:
        broker.close()
    log.info("bootstrap complete: %s", ", ".join(done))
    return 0


if __name__ == "__main__":
    sys.exit(main())
