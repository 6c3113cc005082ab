"""session-agent: the HTTP front door. Accepts events, shows thread state.

POST /events        {"thread_id", "type", "data"} -> queued on "events" (202, with the event's
                    new correlation_id: every service's log lines about it carry it)
GET  /threads/<id>  current state from Redis (404 if none)
GET  /healthz       200 if Redis answers and RabbitMQ accepts our login, else 503
"""

from __future__ import annotations

import logging

from .common import logs, rabbit, redis_store, web
from .common.config import Settings
from .common.probes import Probe
from .common.threads import EVENTS_QUEUE, Event, ThreadStore, parse_event

log = logging.getLogger(__name__)
THREADS_PREFIX = "/threads/"


def accept(broker: rabbit.Broker, event: Event) -> web.Response:
    """Queue an event under a new correlation id, the one every service logs while handling it
    (common/logs.py); the client gets it back to follow the event."""
    with logs.correlated(None) as correlation_id:
        try:
            broker.publish(EVENTS_QUEUE, event.to_dict())
        except Exception as exc:  # noqa: BLE001 (broker down: tell the client 503)
            log.error("publish failed: %s", exc)
            return 503, {"error": "event queue unavailable", "correlation_id": correlation_id}
        log.info("thread %s: event %s accepted", event.thread_id, event.type)
    return 202, {"accepted": True, "thread_id": event.thread_id, "correlation_id": correlation_id}


def make_app(broker: rabbit.Broker, store: ThreadStore, probes: dict[str, Probe]) -> web.App:
    def app(method: str, path: str, body: bytes) -> web.Response:
        if method == "GET" and path == "/healthz":
            return web.health(probes)
        if method == "POST" and path == "/events":
            try:
                event = parse_event(body)
            except (ValueError, TypeError) as exc:
                return 400, {"error": str(exc)}
            return accept(broker, event)
        if method == "GET" and path.startswith(THREADS_PREFIX):
            thread_id = path[len(THREADS_PREFIX) :]
            if not thread_id or "/" in thread_id:
                return 404, {"error": "not found"}
            state = store.get(thread_id)
            if state is None:
                return 404, {"error": "no such thread", "thread_id": thread_id}
            return 200, state
        return 404, {"error": "not found"}

    return app


def main() -> None:
    settings = Settings.from_env()
    logs.setup("session-agent", settings.log_level)
    redis_at, rabbit_at = settings.require("redis"), settings.require("rabbitmq")
    store = redis_store.RedisThreadStore(redis_store.connect(redis_at))
    broker = rabbit.PikaBroker(rabbit_at, settings.rabbitmq_user, settings.rabbitmq_password)
    # Logging in, not only connecting: a broker that refuses our password is down for us.
    probes = {
        "redis": store.ping,
        "rabbitmq": rabbit.login_probe(rabbit_at, settings.rabbitmq_user, settings.rabbitmq_password),
    }
    server = web.make_server(make_app(broker, store, probes), settings.port)
    log.info("listening on :%d (redis %s, rabbitmq %s)", settings.port, redis_at, rabbit_at)
    server.serve_forever()


if __name__ == "__main__":
    # In a child that SIGHUP replaces with the code on disk (serve.py): live sync's restart.
    from . import serve

    raise SystemExit(serve.forever(__spec__.name, preload=("redis", "pika")))
