"""Settings read from the environment, the only configuration channel."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def parse_endpoint(value: str | None, default_port: int) -> Endpoint | None:
    """Parse "host:port" (or bare "host"); empty or unset means "not configured"."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    host, sep, port = text.rpartition(":")
    if not sep:
        return Endpoint(text, default_port)
    if not host or not port.isdigit():
        raise ValueError(f"expected host:port, got {value!r}")
    return Endpoint(host, int(port))


@dataclass(frozen=True)
class Settings:
    mongo: Endpoint | None
    redis: Endpoint | None
    rabbitmq: Endpoint | None
    rabbitmq_user: str
    # Kept out of repr so a logged Settings never leaks the secret.
    rabbitmq_password: str = field(repr=False)
    port: int
    health_port: int
    log_level: str
    mongo_db: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            mongo=parse_endpoint(env.get("MONGO_HOST"), 27017),
            redis=parse_endpoint(env.get("REDIS_HOST"), 6379),
            rabbitmq=parse_endpoint(env.get("RABBITMQ_HOST"), 5672),
            rabbitmq_user=env.get("RABBITMQ_USER") or "srvthreds",
            rabbitmq_password=env.get("RABBITMQ_PASSWORD", ""),
            port=int(env.get("PORT") or 3000),
            health_port=int(env.get("HEALTH_PORT") or 8080),
            log_level=(env.get("LOG_LEVEL") or "info").upper(),
            mongo_db=env.get("MONGO_DB") or "srvthreds",
        )

    def require(self, name: str) -> Endpoint:
        """The endpoint a service cannot run without; fail with the variable name."""
        endpoint: Endpoint | None = getattr(self, name)
        if endpoint is None:
            raise SystemExit(f"{name.upper()}_HOST must be set (host:port)")
        return endpoint
