"""Issue 15, "Config": the listed mistakes that the bad-input corpus (tests/test_bad_inputs.py)
does not already cover, end to end through `doit`."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import yaml

from tasks.programs import tools
from testing.project import run_doit


def _built(project: Path, env: str) -> list[dict[str, Any]]:
    """The overlay as the cluster would get it (real `kubectl kustomize`)."""
    out = tools.run("kubectl", "kustomize", str(project / "k8s/overlays" / env)).stdout
    return [d for d in yaml.safe_load_all(out) if isinstance(d, dict)]


def _named(docs: list[dict[str, Any]], kind: str, name: str) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("kind") == kind and (d.get("metadata") or {}).get("name") == name]


def test_replicas_zero_is_accepted_and_leaves_no_autoscaler(project: Path) -> None:
    prod = project / "environments/prod.yaml"
    prod.write_text(prod.read_text().replace("engine: {replicas: 3}", "engine: {replicas: 0}"))
    result = run_doit(project, "render")
    assert result.code == 0, result.out
    docs = _built(project, "prod")
    (engine,) = _named(docs, "Deployment", "engine")
    assert engine["spec"]["replicas"] == 0
    # The API refuses an HPA with minReplicas 0, and any autoscaler would scale it back up.
    assert _named(docs, "HorizontalPodAutoscaler", "engine") == []
    (other,) = _named(docs, "HorizontalPodAutoscaler", "session-agent")
    assert other["spec"]["minReplicas"] == 2
    validated = run_doit(project, "validate:k8s-prod")
    assert validated.code == 0, validated.out


def test_replicas_zero_in_the_stack_leaves_no_autoscaler_in_the_component(project: Path) -> None:
    stack = project / "environments/stack.yaml"
    text = stack.read_text()
    assert text.count("    replicas: 1\n") == 3
    stack.write_text(text.replace("    replicas: 1\n", "    replicas: 0\n", 1))
    result = run_doit(project, "render")
    assert result.code == 0, result.out
    hpas = [d for d in yaml.safe_load_all((project / "k8s/components/hpa/hpa.yaml").read_text()) if d]
    assert len(hpas) == 2 and all(d["spec"]["minReplicas"] >= 1 for d in hpas)


def test_a_new_secret_is_added_to_an_existing_env_file(project: Path) -> None:
    env_file = project / "compose/local/.env"
    env_file.write_text("RABBITMQ_PASSWORD=kept-value\n")
    env_file.chmod(stat.S_IRUSR | stat.S_IWUSR)
    stack = project / "environments/stack.yaml"
    text = stack.read_text()
    assert "  - RABBITMQ_PASSWORD\n" in text
    stack.write_text(
        text.replace("  - RABBITMQ_PASSWORD\n", "  - RABBITMQ_PASSWORD\n  - API_SIGNING_KEY\n", 1)
    )
    result = run_doit(project, "_compose_env", "env=local")
    assert result.code == 0, result.out
    lines = env_file.read_text().splitlines()
    assert lines[0] == "RABBITMQ_PASSWORD=kept-value"  # existing values are kept
    added = [line for line in lines if line.startswith("API_SIGNING_KEY=")]
    assert len(added) == 1 and len(added[0]) > len("API_SIGNING_KEY=") + 16
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    # Complete now: the next run leaves the file alone.
    before = env_file.read_bytes()
    again = run_doit(project, "_compose_env", "env=local")
    assert again.code == 0 and "_compose_env" not in again.executed()
    assert env_file.read_bytes() == before
