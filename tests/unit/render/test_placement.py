"""tasks/render/placement.py: docs/placement.md, where each database runs in every environment."""

from __future__ import annotations

from pathlib import Path

from tasks.config import load as config
from tasks.model import Config
from tasks.render import placement
from testing.project import REPO


def configs(root: Path) -> list[Config]:
    return [config.load(env, root) for env in config.environments(root)]


def test_matrix_rows_come_from_each_environment() -> None:
    text = placement.markdown(configs(REPO))
    assert text.splitlines()[0].startswith("<!-- Generated from environments/*.yaml")
    assert "| **mongodb** | external | compose | compose | disabled | external | external | compose |" in text
    assert '    minikube_rabbitmq["rabbitmq: in the cluster"]:::cluster' in text
