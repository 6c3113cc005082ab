"""docs/placement.md is generated from the configuration and cannot go stale."""

from __future__ import annotations

from pathlib import Path

from tasks.config import load as config
from tasks.model import Config
from tasks.render import placement
from testing.project import REPO, run_doit


def configs(root: Path) -> list[Config]:
    return [config.load(env, root) for env in config.environments(root)]


def test_committed_placement_doc_is_up_to_date() -> None:
    assert (REPO / placement.PATH).read_text() == placement.markdown(configs(REPO)), (
        "run `doit render` and commit docs/placement.md"
    )


def test_matrix_rows_come_from_each_environment() -> None:
    text = placement.markdown(configs(REPO))
    assert text.splitlines()[0].startswith("<!-- Generated from environments/*.yaml")
    assert "| **mongodb** | external | compose | compose | disabled | external | external | compose |" in text
    assert '    minikube_rabbitmq["rabbitmq: in the cluster"]:::cluster' in text


def test_render_rewrites_it_when_a_placement_changes(project: Path) -> None:
    assert run_doit(project, "render").code == 0
    env = project / "environments" / "local.yaml"
    env.write_text(
        env.read_text().replace("mongodb: compose", "mongodb: external")
        + "endpoints: {mongodb: mongo.example.net:27017}\n"
    )
    again = run_doit(project, "render")
    assert again.code == 0, again.out
    assert "render:docs-placement" in again.executed()
    assert "| **mongodb** | external | external |" in (project / placement.PATH).read_text()
