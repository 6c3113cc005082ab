"""tasks/ops/validate.py: strict schema validation per document, remembered by content, with the
real kustomize and kubernetes-validate on a copy of the project. The adapter is wrapped only to
see which documents reach the validator."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import ToolError
from tasks.ops import validate
from tasks.programs import kubernetes_validate

VERSION = "1.33.0"


@pytest.fixture
def seen(project: Path, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The documents each kubernetes-validate call got (the real one still runs)."""
    monkeypatch.chdir(project)
    calls: list[list[str]] = []
    real = kubernetes_validate.strict

    def strict(path: str, version: str) -> None:
        calls.append(validate.documents(Path(path).read_text()))
        real(path, version)

    monkeypatch.setattr(kubernetes_validate, "strict", strict)
    return calls


def check(env: str, version: str = VERSION) -> None:
    validate.check_overlay(env, version, f".build/manifests/{env}.yaml")


def test_documents_split_a_stream_into_its_documents() -> None:
    stream = "a: 1\n---\nb: |\n  ---x\n---  \n\n---\nc: 3\n"
    assert validate.documents(stream) == ["a: 1\n", "b: |\n  ---x\n", "c: 3\n"]


def test_an_unchanged_overlay_is_not_validated_again(
    seen: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    check("minikube")
    assert len(seen) == 1 and len(seen[0]) > 5
    check("minikube")
    assert len(seen) == 1  # every document passed before, unchanged
    assert "restricted profile OK (0 of" in capsys.readouterr().out


def test_a_changed_document_is_the_only_one_validated_again(seen: list[list[str]]) -> None:
    check("minikube")
    base = Path("k8s/base")
    workload = next(p for p in sorted(base.glob("*.yaml")) if "kind: Deployment" in p.read_text())
    workload.write_text(workload.read_text().replace("replicas: 1", "replicas: 4", 1))
    check("minikube")
    assert len(seen) == 2 and len(seen[1]) == 1
    assert "replicas: 4" in seen[1][0] and "kind: Deployment" in seen[1][0]


def test_another_kubernetes_version_validates_everything_again(seen: list[list[str]]) -> None:
    check("minikube")
    check("minikube", "1.32.0")
    assert len(seen) == 2 and len(seen[1]) == len(seen[0])


def test_documents_passed_in_one_environment_are_not_validated_in_another(seen: list[list[str]]) -> None:
    check("minikube")
    check("staging")
    shared = set(seen[0]) & set(validate.documents(Path(".build/manifests/staging.yaml").read_text()))
    assert shared  # e.g. an identical NetworkPolicy
    assert not shared & set(seen[1])


def test_a_document_that_fails_is_not_remembered(seen: list[list[str]]) -> None:
    base = Path("k8s/base")
    workload = next(p for p in sorted(base.glob("*.yaml")) if "kind: Deployment" in p.read_text())
    workload.write_text(workload.read_text().replace("\nspec:\n", "\nspec:\n  notAField: 1\n", 1))
    for _ in range(2):
        with pytest.raises(ToolError, match="notAField"):
            check("minikube")
    assert len(seen) == 2 and seen[1] == seen[0]
    assert not Path(".build/k8s-validated/minikube.txt").exists()
