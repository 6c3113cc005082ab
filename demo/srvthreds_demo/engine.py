"""engine: consumes "events", advances thread state in Redis, forwards to "persistence"."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from .common import logs, metrics, rabbit, redis_store, web
from .common.config import Settings
from .common.threads import (
    EVENTS_QUEUE,
    PERSISTENCE_QUEUE,
    ThreadState,
    ThreadStore,
    apply_event,
    parse_event,
)

log = logging.getLogger(__name__)


def handle_event(
    message: Any, store: ThreadStore, broker: rabbit.Broker, now: Callable[[], float] = time.time
) -> ThreadState:
    """One event in, new state stored and forwarded. ValueError/TypeError: drop the message."""
    event = parse_event(message)
    state = apply_event(store.get(event.thread_id), event, now())
    # Store before forwarding: if forwarding fails the message is redelivered and
    # counted twice, which a demo tolerates; losing the state update would not be.
    store.put(state)
    broker.publish(PERSISTENCE_QUEUE, state)
    log.info(
        "thread %s: %s -> %s (%d events)", event.thread_id, event.type, state["status"], state["event_count"]
    )
    return state


def main() -> None:
    settings = Settings.from_env()
    logs.setup("engine", settings.log_level)
    redis_at, rabbit_at = settings.require("redis"), settings.require("rabbitmq")
    store = redis_store.RedisThreadStore(redis_store.connect(redis_at))
    web.serve_in_background(
        web.health_app(
            {
                "redis": store.ping,
                "rabbitmq": rabbit.login_probe(rabbit_at, settings.rabbitmq_user, settings.rabbitmq_password),
            }
        ),
        settings.health_port,
    )
    user, password = settings.rabbitmq_user, settings.rabbitmq_password
    metrics.watch_queue(EVENTS_QUEUE, lambda: rabbit.queue_depth(rabbit_at, user, password, EVENTS_QUEUE))
    # Separate connections: the consumer blocks its own, publishing uses another.
    publisher = rabbit.PikaBroker(rabbit_at, settings.rabbitmq_user, settings.rabbitmq_password)
    rabbit.consume_forever(
        rabbit_at,
        settings.rabbitmq_user,
        settings.rabbitmq_password,
        EVENTS_QUEUE,
        lambda message: handle_event(message, store, publisher),
    )


if __name__ == "__main__":
    # In a child that SIGHUP replaces with the code on disk (serve.py): live sync's restart.
    from . import serve

    raise SystemExit(serve.forever(__spec__.name, preload=("redis", "pika")))
