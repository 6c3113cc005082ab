"""RabbitMQ adapter (pika, from Debian's python3-pika), imported lazily."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from . import logs, metrics
from .config import Endpoint

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]
"""Processes one message. ValueError/TypeError: malformed, dropped; any other
exception: requeued."""


class Broker(Protocol):
    def declare(self, queue: str) -> None: ...

    def publish(self, queue: str, message: dict[str, Any]) -> None: ...


class PikaBroker:
    """One blocking connection, shared under a lock by HTTP request threads."""

    def __init__(self, endpoint: Endpoint, user: str, password: str) -> None:
        self._endpoint, self._user, self._password = endpoint, user, password
        self._lock = threading.Lock()
        self._connection: Any = None
        self._channel: Any = None

    def _open(self) -> Any:
        import pika  # type: ignore[import-not-found, unused-ignore]  # lazy: images only

        if self._connection is None or self._connection.is_closed:
            params = pika.ConnectionParameters(
                host=self._endpoint.host,
                port=self._endpoint.port,
                credentials=pika.PlainCredentials(self._user, self._password),
                heartbeat=30,
                connection_attempts=1,
            )
            self._connection = pika.BlockingConnection(params)
            self._channel = self._connection.channel()
        return self._channel

    def declare(self, queue: str) -> None:
        with self._lock:
            self._open().queue_declare(queue=queue, durable=True)

    def publish(self, queue: str, message: dict[str, Any]) -> None:
        import pika  # type: ignore[import-not-found, unused-ignore]

        body = json.dumps(message).encode()
        props = pika.BasicProperties(**properties())
        with self._lock:
            try:
                self._open().basic_publish(exchange="", routing_key=queue, body=body, properties=props)
            except Exception:  # noqa: BLE001 (pika raises many types; retried once)
                # The connection may have dropped while idle: reconnect once.
                self.close_locked()
                self._open().basic_publish(exchange="", routing_key=queue, body=body, properties=props)

    def consume(self, queue: str, handler: Handler, prefetch: int = 10) -> None:
        """Block, feeding each message of `queue` to `handler`; ack after success."""
        channel = self._open()
        channel.queue_declare(queue=queue, durable=True)
        channel.basic_qos(prefetch_count=prefetch)

        def on_message(ch: Any, method: Any, props: Any, body: bytes) -> None:
            deliver(queue, handler, ch, method, props, body)

        channel.basic_consume(queue=queue, on_message_callback=on_message)
        channel.start_consuming()

    def close_locked(self) -> None:
        try:
            if self._connection is not None and self._connection.is_open:
                self._connection.close()
        except Exception as exc:  # noqa: BLE001 (closing a broken connection may fail)
            log.debug("ignoring error on close: %s", exc)
        self._connection = self._channel = None

    def close(self) -> None:
        with self._lock:
            self.close_locked()


def properties() -> dict[str, Any]:
    """A published message's properties: JSON, persistent, and the correlation id of the event
    being handled (AMQP's own `correlation_id`), so the service that consumes it logs it too."""
    props: dict[str, Any] = {"content_type": "application/json", "delivery_mode": 2}
    correlation_id = logs.current_id()
    if correlation_id:
        props["correlation_id"] = correlation_id
    return props


def deliver(queue: str, handler: Handler, channel: Any, method: Any, props: Any, body: bytes) -> None:
    """Feed one delivered message to `handler` under its correlation id (a new one when it came
    without), then ack it; reject what cannot be handled, requeue what failed."""
    with logs.correlated(getattr(props, "correlation_id", None)):
        try:
            message = json.loads(body)
        except ValueError:
            # Poison message: requeueing would loop forever.
            log.error("dropping non-JSON message on %s", queue)
            channel.basic_reject(delivery_tag=method.delivery_tag, requeue=False)
            return
        try:
            handler(message)
        except (ValueError, TypeError) as exc:
            log.error("dropping invalid message on %s: %s", queue, exc)
            channel.basic_reject(delivery_tag=method.delivery_tag, requeue=False)
            return
        except Exception:
            log.exception("handler failed; requeueing")
            channel.basic_nack(delivery_tag=method.delivery_tag, requeue=True)
            raise
        channel.basic_ack(delivery_tag=method.delivery_tag)


RECONNECT_DELAY = 5.0


def _pika_login(endpoint: Endpoint, user: str, password: str, timeout: float) -> None:
    import pika  # type: ignore[import-not-found, unused-ignore]  # lazy: images only

    params = pika.ConnectionParameters(
        host=endpoint.host,
        port=endpoint.port,
        credentials=pika.PlainCredentials(user, password),
        connection_attempts=1,
        socket_timeout=timeout,
        blocked_connection_timeout=timeout,
    )
    pika.BlockingConnection(params).close()


def login_probe(
    endpoint: Endpoint,
    user: str,
    password: str,
    timeout: float = 3.0,
    login: Callable[[Endpoint, str, str, float], None] = _pika_login,
) -> Callable[[], None]:
    """Health probe that logs in, on its own short-lived connection (pika connections are
    not thread-safe): a broker that is reachable but refuses our password is down for us.
    A change of verdict is logged once, so a refused login is visible in the logs."""
    last: list[str] = ["ok"]

    def probe() -> None:
        try:
            login(endpoint, user, password, timeout)
        except Exception as exc:
            verdict = f"{type(exc).__name__}: {exc}"
            if verdict != last[0]:
                log.error(
                    "rabbitmq at %s:%s refused us or is unreachable (user %s): %s",
                    endpoint.host,
                    endpoint.port,
                    user,
                    verdict,
                )
            last[0] = verdict
            raise
        if last[0] != "ok":
            log.info("rabbitmq at %s:%s accepts our login again", endpoint.host, endpoint.port)
        last[0] = "ok"

    return probe


def consume_forever(
    at: Endpoint, user: str, password: str, queue: str, on_message: Callable[[Any], None]
) -> None:
    """Consume `queue` for good, reconnecting after any loss of the broker.

    The caller's health endpoint keeps answering (503) while the broker is away.
    """
    on_message = metrics.consumed(queue, on_message)
    while True:
        consumer = PikaBroker(at, user, password)
        try:
            consumer.consume(queue, on_message)
        except Exception as exc:  # noqa: BLE001 (any loss of the broker: reconnect)
            log.warning("consumer stopped (%s); reconnecting in %.0fs", exc, RECONNECT_DELAY)
        finally:
            consumer.close()
        time.sleep(RECONNECT_DELAY)


def queue_depth(at: Endpoint, user: str, password: str, queue: str, timeout: float = 3.0) -> int:
    """Messages waiting in `queue` (ready, not yet delivered), on a short-lived connection of
    its own (pika connections are not thread-safe; this runs in a scrape's thread)."""
    import pika  # type: ignore[import-not-found, unused-ignore]  # lazy: images only

    params = pika.ConnectionParameters(
        host=at.host,
        port=at.port,
        credentials=pika.PlainCredentials(user, password),
        connection_attempts=1,
        socket_timeout=timeout,
        blocked_connection_timeout=timeout,
    )
    connection = pika.BlockingConnection(params)
    try:
        declared = connection.channel().queue_declare(queue=queue, durable=True, passive=True)
        return int(declared.method.message_count)
    finally:
        connection.close()
