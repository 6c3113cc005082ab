"""tasks/ops/validate.py with the real tools (kubectl kustomize, kubernetes-validate,
docker-compose, hadolint) on a copy of the project: a manifest breaking the restricted profile or
Kubernetes' schema is never written (and no scratch file is left), and what each check prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import StackError, ToolError
from tasks.ops import validate

VERSION = "1.33.0"


@pytest.fixture
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(project)
    return project


def a_deployment(project: Path) -> Path:
    base = project / "k8s/base"
    return next(p for p in sorted(base.glob("*.yaml")) if "kind: Deployment" in p.read_text())


def test_a_valid_overlay_is_written_with_no_scratch_file(
    in_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = in_project / ".build/manifests/minikube.yaml"
    validate.check_overlay("minikube", VERSION, str(out))
    validate.check_overlay("minikube", VERSION, str(out))  # again, into the same folder
    assert "kind: Deployment" in out.read_text()
    assert [p.name for p in out.parent.iterdir()] == ["minikube.yaml"]
    assert (
        f"k8s/overlays/minikube: schema {VERSION} strict OK, restricted profile OK" in capsys.readouterr().out
    )


def test_an_overlay_that_breaks_the_restricted_profile_is_not_written(in_project: Path) -> None:
    workload = a_deployment(in_project)
    text = workload.read_text()
    assert "runAsNonRoot: true" in text
    workload.write_text(text.replace("runAsNonRoot: true", "runAsNonRoot: false"))
    out = in_project / ".build/manifests/minikube.yaml"
    with pytest.raises(StackError) as info:
        validate.check_overlay("minikube", VERSION, str(out))
    assert "k8s/overlays/minikube breaks the restricted Pod Security Standard:\n  - " in str(info.value)
    assert info.value.fix == "fix the templates under templates/k8s/ and run `doit render`"
    assert list(out.parent.iterdir()) == []


def test_an_overlay_with_a_field_kubernetes_does_not_know_is_not_written(in_project: Path) -> None:
    workload = a_deployment(in_project)
    text = workload.read_text()
    assert "\nspec:\n" in text
    workload.write_text(text.replace("\nspec:\n", "\nspec:\n  notAField: 1\n", 1))
    out = in_project / ".build/manifests/minikube.yaml"
    with pytest.raises(ToolError) as info:
        validate.check_overlay("minikube", VERSION, str(out))
    assert "notAField" in str(info.value)
    assert list(out.parent.iterdir()) == []


def test_compose_files_are_checked_one_by_one(in_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = ["compose/local/docker-compose-db.yml", "compose/local/docker-compose-services.yml"]
    validate.check_compose(files)
    out = capsys.readouterr().out
    assert all(f"  {f}: OK" in out for f in files)
    broken = Path("compose/local/docker-compose-db.yml")
    broken.write_text(broken.read_text() + "\nnot_a_compose_key: 1\n")
    with pytest.raises(ToolError):
        validate.check_compose(files)


def test_hadolint_prints_ok_or_fails_with_its_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "Dockerfile"
    good.write_text("FROM debian:bookworm-slim\nUSER 10001\n")
    validate.hadolint([str(good)])
    assert capsys.readouterr().out == "  hadolint OK\n"
    bad = tmp_path / "Dockerfile.bad"
    bad.write_text("FROM debian:latest\nRUN cd /tmp\n")
    with pytest.raises(ToolError) as info:
        validate.hadolint([str(good), str(bad)])
    assert "DL3007" in str(info.value)
