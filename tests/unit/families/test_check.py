"""tasks/families/check.py (`doit validate`) with the real tools: kubectl kustomize,
kubernetes-validate, docker-compose and hadolint, called directly on a copy of the project: a
manifest breaking the restricted profile is never written (and no scratch file is left), what each
check prints, and which subtasks `validate` has.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.cli.resolve import resolve
from tasks.config import load as config
from tasks.errors import StackError, ToolError
from tasks.families import check as check_tasks
from tasks.families.shared.run import Run
from tasks.programs import hadolint as hadolint_cli

VERSION = "1.33.0"


@pytest.fixture
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(project)
    return project


def test_a_valid_overlay_is_written_with_no_scratch_file(
    in_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = in_project / ".build/manifests/minikube.yaml"
    check_tasks.check_overlay("minikube", VERSION, str(out))
    check_tasks.check_overlay("minikube", VERSION, str(out))  # again, into the same folder
    assert "kind: Deployment" in out.read_text()
    assert [p.name for p in out.parent.iterdir()] == ["minikube.yaml"]
    assert (
        f"k8s/overlays/minikube: schema {VERSION} strict OK, restricted profile OK" in capsys.readouterr().out
    )


def test_an_overlay_that_breaks_the_restricted_profile_is_not_written(in_project: Path) -> None:
    base = in_project / "k8s/base"
    workload = next(p for p in sorted(base.glob("*.yaml")) if "kind: Deployment" in p.read_text())
    text = workload.read_text()
    assert "runAsNonRoot: true" in text
    workload.write_text(text.replace("runAsNonRoot: true", "runAsNonRoot: false"))
    out = in_project / ".build/manifests/minikube.yaml"
    with pytest.raises(StackError) as info:
        check_tasks.check_overlay("minikube", VERSION, str(out))
    assert "k8s/overlays/minikube breaks the restricted Pod Security Standard:\n  - " in str(info.value)
    assert list(out.parent.iterdir()) == []


def test_an_overlay_with_a_field_kubernetes_does_not_know_is_not_written(in_project: Path) -> None:
    base = in_project / "k8s/base"
    workload = next(p for p in sorted(base.glob("*.yaml")) if "kind: Deployment" in p.read_text())
    text = workload.read_text()
    assert "\nspec:\n" in text
    workload.write_text(text.replace("\nspec:\n", "\nspec:\n  notAField: 1\n", 1))
    out = in_project / ".build/manifests/minikube.yaml"
    with pytest.raises(ToolError) as info:
        check_tasks.check_overlay("minikube", VERSION, str(out))
    assert "notAField" in str(info.value)
    assert list(out.parent.iterdir()) == []


def test_compose_files_are_checked_one_by_one(in_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = ["compose/local/docker-compose-db.yml", "compose/local/docker-compose-services.yml"]
    check_tasks.check_compose(files)
    out = capsys.readouterr().out
    assert all(f"  {f}: OK" in out for f in files)
    broken = Path("compose/local/docker-compose-db.yml")
    broken.write_text(broken.read_text() + "\nnot_a_compose_key: 1\n")
    with pytest.raises(ToolError):
        check_tasks.check_compose(files)


def test_hadolint_prints_ok_or_its_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "Dockerfile"
    good.write_text("FROM debian:bookworm-slim\nUSER 10001\n")
    assert hadolint_cli.lint([str(good)]) == ""
    check_tasks.hadolint([str(good)])
    assert capsys.readouterr().out == "  hadolint OK\n"
    bad = tmp_path / "Dockerfile.bad"
    bad.write_text("FROM debian:latest\nRUN cd /tmp\n")
    with pytest.raises(ToolError) as info:
        hadolint_cli.lint([str(bad)])
    assert "DL3007" in str(info.value)


def test_validate_has_a_subtask_per_check(in_project: Path) -> None:
    tasks = {t["name"]: t for t in check_tasks.task_validate(resolve(["list"], in_project))}
    cfgs = {env: config.load(env, in_project) for env in config.environments(in_project)}
    k8s = sorted(f"k8s-{e}" for e, c in cfgs.items() if c.runtime == "kubernetes")
    assert sorted(n for n in tasks if n.startswith("k8s-")) == k8s and k8s
    assert sorted(n for n in tasks if n.startswith("compose-")) == sorted(f"compose-{e}" for e in cfgs)
    assert tasks["cloud"]["task_dep"] == ["tf_fmt", "tf_validate", "checkov"]
    assert "demo/docker/Dockerfile.service" in tasks["dockerfiles"]["file_dep"]
    minikube = tasks["k8s-minikube"]
    assert minikube["targets"] == [".build/manifests/minikube.yaml"] and minikube["clean"] is True
    (action,) = minikube["actions"]
    assert action[1] == ["minikube", cfgs["minikube"].kubernetes_version, ".build/manifests/minikube.yaml"]
    assert "k8s/overlays/minikube/kustomization.yaml" in minikube["file_dep"]
    (version,) = minikube["uptodate"]
    assert version.config == {"kubernetes_version": cfgs["minikube"].kubernetes_version}


def test_validate_leaves_out_a_broken_environment_and_dockerfiles_when_none(
    in_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = in_project / "environments/staging.yaml"
    path.write_text(path.read_text().replace("region: us-west-2", "region: [x]"))
    run = Run(
        root=in_project, command="list", words=[], vars={}, env="dev", envs=config.environments(in_project)
    )
    names = [t["name"] for t in check_tasks.task_validate(run)]
    assert "k8s-staging" not in names and "compose-staging" not in names and "k8s-dev" in names
    monkeypatch.setattr(check_tasks, "dockerfiles", lambda: [])
    assert "dockerfiles" not in [t["name"] for t in check_tasks.task_validate(run)]
