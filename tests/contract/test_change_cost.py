"""A change costs what it touches: one value changed in one environment re-renders and
re-validates that environment alone, and validates again only the documents it changed."""

from __future__ import annotations

import re
from pathlib import Path

from testing.project import run_doit

OVERLAYS = ("dev", "minikube", "prod", "staging")
VALIDATE = [f"validate:k8s-{env}" for env in OVERLAYS]


def scale(project: Path, env: str, service: str, replicas: int) -> None:
    path = project / "environments" / f"{env}.yaml"
    path.write_text(path.read_text() + f"services:\n  {service}: {{replicas: {replicas}}}\n")


def validated_counts(out: str) -> dict[str, tuple[int, int]]:
    """overlay -> (documents validated, documents in it), from each check's line."""
    found = re.findall(r"k8s/overlays/(\S+): schema .* OK \((\d+) of (\d+) documents validated", out)
    return {env: (int(todo), int(total)) for env, todo, total in found}


def test_one_replicas_change_leaves_the_other_environments_up_to_date(project: Path) -> None:
    first = run_doit(project, *VALIDATE)
    assert first.code == 0, first.out
    assert set(VALIDATE) <= set(first.executed())
    scale(project, "staging", "engine", 5)
    again = run_doit(project, *VALIDATE)
    assert again.code == 0, again.out
    ran = set(again.executed())
    assert {"render:k8s-staging", "validate:k8s-staging"} <= ran
    for env in ("dev", "minikube", "prod"):
        assert f"validate:k8s-{env}" not in ran and f"render:k8s-{env}" not in ran
    # The engine's Deployment is the one document the change touched.
    todo, total = validated_counts(again.out)["staging"]
    assert todo == 1 and total > 10
    built = (project / ".build" / "manifests" / "staging.yaml").read_text()
    assert "replicas: 5" in built


def test_a_change_undone_is_not_validated_again(project: Path) -> None:
    path = project / "environments" / "dev.yaml"
    original = path.read_text()
    assert run_doit(project, "validate:k8s-dev").code == 0
    scale(project, "dev", "engine", 6)
    changed = run_doit(project, "validate:k8s-dev")
    # The engine's Deployment, and the PodDisruptionBudget its six replicas now get.
    assert validated_counts(changed.out)["dev"][0] == 2
    path.write_text(original)  # back as it was: every document of it passed before
    back = run_doit(project, "validate:k8s-dev")
    assert back.code == 0, back.out
    assert "validate:k8s-dev" in back.executed()
    assert validated_counts(back.out)["dev"][0] == 0
