"""checkov covers every framework the repository has, and every suppression says something true.

The scans are checked at the PATH boundary (a fake `checkov` program) and, where checkov
is installed (its own venv, .build/checkov), for real on a copy of the project.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.checks import policy
from tasks.cli.resolve import resolve
from tasks.config import load as config
from tasks.families import cloud as cloud_tasks
from tasks.ops import checkov
from testing import harness
from testing.project import REPO, run_doit
from testing.tasks import run_action, up_to_date

SKIP_COMMENT = re.compile(r"checkov:skip=(CKV2?_[A-Z0-9]+_\d+):(.*)$", re.MULTILINE)
SKIP_ANNOTATION = re.compile(r"checkov\.io/skip\d+: (CKV2?_[A-Z0-9]+_\d+)=(.*)$", re.MULTILINE)
CONTENT_ADDRESSED = ("content-addressed", "image ID prefix", "immutable content tags")


@pytest.fixture
def at_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(REPO)
    return REPO


def test_checkov_scans_every_framework_and_every_overlay(at_repo: Path) -> None:
    envs = cloud_tasks.checkov_envs(resolve(["list"], at_repo))
    # Minikube is not a cloud environment, but its overlay is scanned too.
    assert {"dev", "staging", "prod", "minikube"} <= set(envs)
    scans = dict(cloud_tasks.checkov_scans(envs))
    assert list(scans) == ["terraform", "kubernetes", "dockerfile", "github_actions"]
    assert ".build/manifests/minikube.yaml" in scans["kubernetes"]
    for dockerfile in (
        "demo/docker/Dockerfile.builder",
        "demo/docker/Dockerfile.service",
        "docker/rabbitmq/Dockerfile",
    ):
        assert dockerfile in scans["dockerfile"]
    assert scans["github_actions"][:2] == ["-d", ".github/workflows"]


FAKE_CHECKOV = """#!{python}
import sys
args = sys.argv[1:]
failing = "--framework" in args and args[args.index("--framework") + 1] == "dockerfile"
print("Passed checks: 5, Failed checks: %d, Skipped checks: 0" % failing)
if failing:
    print("Check: CKV_DOCKER_3: user")
sys.exit(1 if failing else 0)
"""


def test_a_failure_in_any_framework_fails_the_task(
    at_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    harness.script(bin_dir, "checkov", FAKE_CHECKOV.format(python=sys.executable))
    monkeypatch.setenv("PATH", harness.fake_path(bin_dir))
    monkeypatch.setattr(cloud_tasks, "CHECKOV_MODE", tmp_path / "mode")
    task = cloud_tasks.task_checkov(resolve(["list"], at_repo))
    failed = run_action(task)
    assert failed is not None and "[dockerfile]" in str(failed) and "CKV_DOCKER_3" in str(failed)
    assert "[terraform]" not in str(failed)
    assert not up_to_date(task)


def _suppressions() -> list[tuple[str, str, str]]:
    """(file, check, reason) of every suppression in sources and committed rendered output."""
    out = []
    files = [
        *(REPO / "terraform").rglob("*.tf"),
        *(REPO / ".github/workflows").glob("*.yml"),
        *(p for p in (REPO / "docker").rglob("Dockerfile*")),
        *(REPO / "k8s").rglob("*.yaml"),
    ]
    for path in files:
        text = path.read_text(encoding="utf-8")
        for pattern in (SKIP_COMMENT, SKIP_ANNOTATION):
            out += [
                (path.relative_to(REPO).as_posix(), check, reason.strip())
                for check, reason in pattern.findall(text)
            ]
    return out


def test_every_suppression_carries_a_reason() -> None:
    found = _suppressions()
    frameworks = {f.split("/")[0] for f, _, _ in found}
    assert frameworks >= {"terraform", ".github", "docker", "k8s"}
    for file, check, reason in found:
        assert len(reason.split()) >= 8, f"{file}: {check} is suppressed without a real reason: {reason!r}"


def _workloads(folder: Path) -> list[dict[str, Any]]:
    docs = [d for p in sorted(folder.glob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]
    return [d for d in docs if d.get("kind") in ("Deployment", "StatefulSet", "Job")]


def test_content_addressed_reason_only_on_images_we_build() -> None:
    stack = config.load_stack(REPO)
    own = {stack.image_ref(s) for s in stack.services}
    checked = 0
    for obj in _workloads(REPO / "k8s/base"):
        notes = " ".join((obj["metadata"].get("annotations") or {}).values())
        images = [c["image"] for c in obj["spec"]["template"]["spec"]["containers"]]
        if any(words in notes for words in CONTENT_ADDRESSED):
            assert all(image.split(":")[0] in own for image in images), (obj["metadata"]["name"], images)
        else:
            # A third-party image's suppressions name it, and say why it is not pinned.
            for image in images:
                assert image in notes and "not by a digest" in notes, (obj["metadata"]["name"], notes)
        checked += 1
    assert checked >= 5


def test_stack_workloads_run_as_high_uids() -> None:
    for obj in _workloads(REPO / "k8s/base"):
        uid = obj["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
        assert uid >= policy.HIGH_UID, obj["metadata"]["name"]


def test_restricted_policy_refuses_a_low_uid() -> None:
    pod = {
        "kind": "StatefulSet",
        "metadata": {"name": "rabbitmq"},
        "spec": {
            "template": {
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 999,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "rabbitmq",
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                        }
                    ],
                }
            }
        },
    }
    assert any("runAsUser 999 is below 10000" in v for v in policy.violations([pod]))


def test_cloud_environments_do_not_change_what_is_built() -> None:
    # The deploy workflow's CKV_GHA_7 suppression says its environment input never changes the
    # images built: true only while no cloud environment overrides `images:`.
    deploy = (REPO / ".github/workflows/deploy.yml").read_text()
    assert "checkov:skip=CKV_GHA_7:" in deploy
    # The input is any GitHub environment: every environment with a `cloud:` block may be picked.
    assert yaml.safe_load(deploy)[True]["workflow_dispatch"]["inputs"]["environment"]["type"] == "environment"
    clouds = [yaml.safe_load(p.read_text()) for p in sorted((REPO / "environments").glob("*.yaml"))]
    clouds = [doc for doc in clouds if "cloud" in doc]
    assert clouds
    for doc in clouds:
        assert "images" not in doc, doc["cloud"]["cluster_name"]


def _checkov_bin() -> str | None:
    local = REPO / ".build/checkov/bin"
    return (
        str(local)
        if (local / "checkov").exists()
        else (str(Path(found).parent) if (found := shutil.which("checkov")) else None)
    )


@pytest.mark.skipif(
    _checkov_bin() is None
    or shutil.which("kubectl") is None
    and not (Path(sys.executable).parent / "kubectl").exists(),
    reason="checkov (own venv) or kubectl is not installed",
)
def test_real_checkov_finds_nothing_in_any_framework(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(REPO / ".github", project / ".github")
    shutil.copy2(REPO / ".checkov.yaml", project / ".checkov.yaml")
    # checkov's own venv goes at the END of PATH, as in CI.
    monkeypatch.setenv("PATH", f"{os.environ['PATH']}{os.pathsep}{_checkov_bin()}")
    result = run_doit(project, "checkov")
    assert result.code == 0, result.out
    for framework in ("terraform", "kubernetes", "dockerfile", "github_actions"):
        assert re.search(rf"checkov {framework}: Passed checks: \d+, Failed checks: 0,", result.out), (
            result.out
        )


def test_checkov_suppressions_sit_next_to_their_resources() -> None:
    root = REPO
    # No project-wide skips: each suppression is on the resource it covers, with a reason.
    assert checkov.documented_skips((root / ".checkov.yaml").read_text()) == {}
    workloads = [
        p
        for p in (root / "k8s" / "base").glob("*.yaml")
        if "kind: Deployment" in p.read_text()
        or "kind: Job" in p.read_text()
        or "kind: StatefulSet" in p.read_text()
    ]
    assert workloads
    for path in workloads:
        skips = re.findall(r"checkov\.io/skip\d+: (CKV_K8S_\d+)=(.+)", path.read_text())
        assert skips, path
        assert all(len(reason.strip()) > 20 for _, reason in skips), path
