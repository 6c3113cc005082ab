"""One log format for all services, so container logs read alike."""

from __future__ import annotations

import logging


def setup(service: str, level: str) -> logging.Logger:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format=f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s",
    )
    # pika logs every connection step at INFO; only its problems are worth reading.
    logging.getLogger("pika").setLevel(logging.WARNING)
    return logging.getLogger(service)
