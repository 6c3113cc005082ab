"""persistence-agent: consumes "persistence", upserts each thread into MongoDB."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from .common import logs, mongo, rabbit, web
from .common.config import Settings
from .common.threads import PERSISTENCE_QUEUE, ThreadState

log = logging.getLogger(__name__)


class Repository(Protocol):
    def upsert(self, state: ThreadState) -> None: ...


def handle_state(message: Any, repo: Repository) -> ThreadState:
    """Persist one thread state. TypeError: malformed, drop the message."""
    if not isinstance(message, dict) or not isinstance(message.get("thread_id"), str):
        raise TypeError("state must be an object with a string thread_id")
    repo.upsert(message)
    log.info("persisted thread %s (%s events)", message["thread_id"], message.get("event_count"))
    return message


def main() -> None:
    settings = Settings.from_env()
    logs.setup("persistence-agent", settings.log_level)
    mongo_at, rabbit_at = settings.require("mongo"), settings.require("rabbitmq")
    repo = mongo.MongoThreadRepository(mongo.connect(mongo_at, settings.mongo_db))
    web.serve_in_background(
        web.health_app(
            {
                "mongodb": repo.ping,
                "rabbitmq": rabbit.login_probe(rabbit_at, settings.rabbitmq_user, settings.rabbitmq_password),
            }
        ),
        settings.health_port,
    )
    rabbit.consume_forever(
        rabbit_at,
        settings.rabbitmq_user,
        settings.rabbitmq_password,
        PERSISTENCE_QUEUE,
        lambda message: handle_state(message, repo),
    )


if __name__ == "__main__":
    # In a child that SIGHUP replaces with the code on disk (serve.py): live sync's restart.
    from . import serve

    raise SystemExit(serve.forever(__spec__.name, preload=("pymongo", "pika")))
