"""tasks/families/check.py (`doit validate`): which subtasks `validate` has, with which inputs and
up-to-date checks, for the environments that load. What each check does is tested with the real
tools in tests/unit/ops/test_validate.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.cli.resolve import resolve
from tasks.config import load as config
from tasks.families import check as check_tasks
from tasks.families.shared.run import Run
from tasks.ops import validate


@pytest.fixture
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(project)
    return project


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
    # No logging component here: no written exception to the restricted profile either.
    version = cfgs["minikube"].kubernetes_version
    assert action[1] == ["minikube", version, ".build/manifests/minikube.yaml", ""]
    assert "k8s/overlays/minikube/kustomization.yaml" in minikube["file_dep"]
    (changed,) = minikube["uptodate"]
    assert changed.config == {"kubernetes_version": version, "log_namespace": ""}
    # prod lists `logging`: its DaemonSet's exception holds in the component's namespace.
    (prod,) = tasks["k8s-prod"]["actions"]
    assert prod[1][3] == cfgs["prod"].log_namespace() == f"{cfgs['prod'].project}-logging"


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


def test_workflows_is_up_to_date_without_workflows_and_waits_for_actionlint_with_them(
    in_project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run = resolve(["list"], in_project)
    monkeypatch.setattr(check_tasks, "WORKFLOWS", tmp_path / "none")
    (empty,) = [t for t in check_tasks.task_validate(run) if t["name"] == "workflows"]
    assert empty["file_dep"] == [] and empty["uptodate"] == [True]  # nothing to check: a no-op
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "ci.yml").write_text("on: push\n")
    monkeypatch.setattr(check_tasks, "WORKFLOWS", tmp_path / "flows")
    (some,) = [t for t in check_tasks.task_validate(run) if t["name"] == "workflows"]
    assert some["file_dep"] == [(tmp_path / "flows" / "ci.yml").as_posix()]
    assert some["uptodate"] == [validate.actionlint_found]
