"""The repository's cloud environments pointed at a test's registry: its configurations with
`cloud.registry` replaced (nothing written), for operations called directly."""

from __future__ import annotations

import dataclasses

from tasks.config import load as config
from tasks.model import Config
from testing.project import REPO


def at(env: str, registry: str) -> Config:
    """`env`'s configuration, its images in `registry` (`127.0.0.1:<port>/<prefix>`)."""
    cfg = config.load(env, REPO)
    assert cfg.cloud is not None
    return dataclasses.replace(cfg, cloud=dataclasses.replace(cfg.cloud, registry=registry))
