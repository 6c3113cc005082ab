"""cloud_tasks (and the aws and checkov adapters) against recording fakes of `aws`, `docker`
and `checkov` first on PATH.

Found unguarded by the mutation benchmark (bench/mutation.py cloud_tasks): environments
without a cloud block, a registry that is not ECR, what push prints and records, how
.checkov.yaml's skip list is read, which scans run in a project without some framework,
what the checkov task records, and the task dicts themselves.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tasks.cli.resolve import resolve
from tasks.config import load as config
from tasks.errors import StackError
from tasks.families import cloud as cloud_tasks
from tasks.families.shared.run import Run
from tasks.programs import checkov, tools
from testing import harness
from testing.project import REPO

REGISTRY = "123456789012.dkr.ecr.us-west-2.amazonaws.com"

FAKE = """#!{python}
import json, os, sys
name = os.path.basename(sys.argv[0])
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    env = {{k: os.environ.get(k) for k in ("NO_COLOR", "ANSI_COLORS_DISABLED")}}
    log.write(json.dumps({{"argv": [name, *args], "env": env}}) + "\\n")
if name == "aws" and args[:2] == ["ecr", "get-login-password"]:
    print("s3cr3t-token")
if name == "docker" and args[:2] == ["manifest", "inspect"]:
    sys.exit(0 if args[2].endswith(os.environ.get("FAKE_PRESENT", "-none-")) else 1)
if name == "checkov":
    framework = args[args.index("--framework") + 1]
    if framework in os.environ.get("FAKE_CHECKOV_SILENT", "").split(","):
        sys.exit(0)
    failing = framework in os.environ.get("FAKE_CHECKOV_FAIL", "").split(",")
    print("Passed checks: 4, Failed checks: %d, Skipped checks: 0" % failing)
    if failing:
        print("Check: CKV_X_1: " + framework)
    sys.exit(1 if failing else 0)
"""


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Recording `aws`, `docker` and `checkov` first on PATH; returns their call log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("aws", "docker", "checkov"):
        harness.script(bin_dir, name, FAKE.format(python=sys.executable))
    log = tmp_path / "calls.jsonl"
    log.touch()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LOG", str(log))
    for name in ("FAKE_PRESENT", "FAKE_CHECKOV_FAIL", "FAKE_CHECKOV_SILENT", "CI"):
        monkeypatch.delenv(name, raising=False)
    return log


def calls(log: Path) -> list[list[str]]:
    return [json.loads(line)["argv"] for line in log.read_text().splitlines()]


@pytest.fixture
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(project)
    return project


def unchecked_run(project: Path) -> Run:
    """A run that loads each environment when a task creator asks (resolve stops at a broken one)."""
    return Run(root=project, command="list", words=[], vars={}, env="dev", envs=config.environments(project))


def edit(project: Path, name: str, old: str, new: str) -> None:
    path = project / "environments" / name
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))


# --------------------------------------------------------------------------- kubeconfig / login / push


def test_an_environment_without_a_cloud_block_is_refused(in_project: Path, fakes: Path) -> None:
    for action in (cloud_tasks._kubeconfig, cloud_tasks._login):
        failed = action("local")
        assert failed is not None and "environment 'local' has no `cloud:` block" in str(failed)
        assert "add one to environments/local.yaml" in str(failed)
    assert calls(fakes) == []


def test_kubeconfig_and_login_say_what_they_did(
    in_project: Path, fakes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cloud_tasks._kubeconfig("dev") is None
    assert (
        "kubectl context srvthreds-dev points at EKS cluster srvthreds-dev (us-west-2)"
        in capsys.readouterr().out
    )
    assert cloud_tasks._login("dev") is None
    assert f"logged in to {REGISTRY}" in capsys.readouterr().out
    assert calls(fakes) == [
        [
            "aws",
            "eks",
            "update-kubeconfig",
            "--region",
            "us-west-2",
            "--name",
            "srvthreds-dev",
            "--alias",
            "srvthreds-dev",
        ],
        ["aws", "ecr", "get-login-password", "--region", "us-west-2"],
        ["docker", "login", "--username", "AWS", "--password-stdin", REGISTRY],
    ]


def test_login_to_a_registry_that_is_not_ecr_is_left_to_the_user(
    in_project: Path, fakes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(in_project, "dev.yaml", f"registry: {REGISTRY}", "registry: registry.example.com/team")
    assert cloud_tasks._login("dev") is None
    assert (
        "registry.example.com/team is not ECR: log in with `docker login registry.example.com/team` yourself"
        in capsys.readouterr().out
    )
    assert calls(fakes) == []


def _write_ref(project: Path, env: str, name: str, ref: str) -> None:
    folder = project / ".build" / env / "images"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.ref").write_text(ref + "\n")


def test_push_says_what_it_pushed_and_what_was_there(
    in_project: Path, fakes: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_ref(in_project, "dev", "engine", "srvthreds/engine:1a2b")
    _write_ref(in_project, "dev", "bootstrap", "srvthreds/bootstrap:0f0f")
    monkeypatch.setenv("FAKE_PRESENT", "bootstrap:0f0f")
    assert cloud_tasks._push("dev", ["engine", "bootstrap"]) is None
    out = capsys.readouterr().out
    assert f"  {REGISTRY}/srvthreds/engine:1a2b: pushed" in out
    assert f"  {REGISTRY}/srvthreds/bootstrap:0f0f: already in the registry" in out
    assert ["docker", "push", f"{REGISTRY}/srvthreds/bootstrap:0f0f"] not in calls(fakes)


def test_push_of_nothing_is_an_error(in_project: Path, fakes: Path) -> None:
    failed = cloud_tasks._push("dev", [])
    assert failed is not None and "no built image recorded for any service in .build/dev/images/" in str(
        failed
    )
    assert "run `doit images env=dev` first" in str(failed)
    _write_ref(in_project, "dev", "engine", "srvthreds/engine:1a2b")
    failed = cloud_tasks._push("dev", ["engine", "bootstrap"])
    assert failed is not None and "no built image recorded for bootstrap in" in str(failed)
    assert calls(fakes) == []


def test_cloud_tasks_always_run_and_push_follows_the_refs(in_project: Path) -> None:
    run = resolve(["list"], in_project)
    for creator in (cloud_tasks.task_kubeconfig, cloud_tasks.task_registry_login):
        tasks = {t["name"]: t for t in creator(run)}
        assert sorted(tasks) == ["dev", "prod", "staging"]
        assert all(t["uptodate"] == [False] for t in tasks.values())
    (push,) = [t for t in cloud_tasks.task_push(run) if t["name"] == "prod"]
    names = run.config("prod").cluster_images()
    assert push["file_dep"] == [f".build/prod/images/{n}.ref" for n in names]
    assert push["targets"] == [f".build/prod/push/{n}.ref" for n in names]
    assert push["actions"] == [(cloud_tasks._push, ["prod", names])]


def test_a_broken_cloud_environment_keeps_its_failing_subtasks(in_project: Path) -> None:
    edit(in_project, "staging.yaml", "region: us-west-2", "region: [not, a, region]")
    run = unchecked_run(in_project)
    for creator in (cloud_tasks.task_kubeconfig, cloud_tasks.task_registry_login, cloud_tasks.task_push):
        tasks = {t["name"]: t for t in creator(run)}
        assert sorted(tasks) == ["dev", "prod", "staging"]
        assert tasks["staging"]["doc"].startswith("Configuration error")
        (action,) = tasks["staging"]["actions"]
        assert "environments/staging.yaml" in str(action())
        assert not tasks["dev"]["doc"].startswith("Configuration error")


# --------------------------------------------------------------------------- checkov


def test_skip_list_ends_at_the_next_key_and_counts_lines_from_one() -> None:
    text = "skip-check:\n  - CKV_K8S_8  # probes are the app's choice\nframework:\n  - kubernetes\n"
    assert cloud_tasks.documented_skips(text) == {"CKV_K8S_8": "probes are the app's choice"}
    with pytest.raises(StackError, match=r"line 3: cannot read skip entry '- kubernetes'"):
        cloud_tasks.documented_skips("quiet: true\nskip-check:\n  - kubernetes\n")
    with pytest.raises(StackError, match=r"line 2: CKV_K8S_8 is skipped without a reason"):
        cloud_tasks.documented_skips("skip-check:\n  - CKV_K8S_8  # two words\n")
    # Three words are a reason.
    assert cloud_tasks.documented_skips("skip-check :\n  - CKV_K8S_8 # one two three\n") == {
        "CKV_K8S_8": "one two three"
    }


def test_checkov_envs_are_the_kubernetes_ones_that_load(in_project: Path) -> None:
    edit(in_project, "prod.yaml", "region: us-west-2", "region: [not, a, region]")
    envs = cloud_tasks.checkov_envs(unchecked_run(in_project))
    assert sorted(envs) == ["dev", "minikube", "staging"]


def test_scans_only_for_what_the_project_has(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert cloud_tasks.workflow_files() == []
    assert cloud_tasks.checkov_scans([]) == []
    (tmp_path / ".github/workflows").mkdir(parents=True)
    for name in ("ci.yml", "deploy.yaml", "notes.txt"):
        (tmp_path / ".github/workflows" / name).write_text("on: push\n")
    assert cloud_tasks.workflow_files() == [".github/workflows/ci.yml", ".github/workflows/deploy.yaml"]
    (tmp_path / "terraform").mkdir()
    assert cloud_tasks.checkov_scans(["dev"]) == [
        ("terraform", ["-d", "terraform", "--framework", "terraform"]),
        ("kubernetes", ["--framework", "kubernetes", "-f", ".build/manifests/dev.yaml"]),
        ("github_actions", ["-d", ".github/workflows", "--framework", "github_actions"]),
    ]


@pytest.fixture
def checkov_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fakes: Path) -> Path:
    """A folder with terraform/ and a .checkov.yaml, the fake checkov on PATH."""
    folder = tmp_path / "p"
    (folder / "terraform").mkdir(parents=True)
    (folder / ".checkov.yaml").write_text("skip-check:\n  - CKV_X_9  # safe by design here\n")
    monkeypatch.chdir(folder)
    return folder


def test_checkov_runs_records_and_reports(
    checkov_project: Path, fakes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud_tasks.CHECKOV_MODE.parent.mkdir(parents=True)
    cloud_tasks.CHECKOV_MODE.write_text("skipped\n")
    assert cloud_tasks._checkov_ran() is False
    assert cloud_tasks._checkov(["dev"]) is None
    out = capsys.readouterr().out
    assert "  skipping CKV_X_9: safe by design here" in out
    assert "  checkov terraform: Passed checks: 4, Failed checks: 0, Skipped checks: 0 (" in out
    assert cloud_tasks._checkov_ran() is True
    logged = [json.loads(line) for line in fakes.read_text().splitlines()]
    assert [c["argv"][:3] for c in logged] == [
        ["checkov", "-d", "terraform"],
        ["checkov", "--framework", "kubernetes"],
    ]
    assert all(c["env"] == {"NO_COLOR": "1", "ANSI_COLORS_DISABLED": "1"} for c in logged)
    assert logged[0]["argv"][-3:] == ["--skip-download", "--quiet", "--compact"]


def test_checkov_failure_is_reported_per_framework_and_not_recorded(
    checkov_project: Path, fakes: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cloud_tasks._checkov(["dev"]) is None and cloud_tasks._checkov_ran()
    monkeypatch.setenv("FAKE_CHECKOV_FAIL", "kubernetes")
    monkeypatch.setenv("FAKE_CHECKOV_SILENT", "terraform")
    failed = cloud_tasks._checkov(["dev"])
    assert failed is not None
    assert "checkov found problems:\n[kubernetes]\nPassed checks: 4, Failed checks: 1" in str(failed)
    assert "CKV_X_1: kubernetes" in str(failed) and "[terraform]" not in str(failed)
    assert "  checkov terraform: no summary (" in capsys.readouterr().out
    # The earlier pass is forgotten: the next run checks again.
    assert cloud_tasks._checkov_ran() is False


def test_checkov_missing_under_ci_in_any_spelling_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert checkov.installed() is False
    monkeypatch.setenv("CI", "TRUE")
    failed = cloud_tasks._checkov([])
    assert failed is not None and "checkov is not installed, and CI must run it" in str(failed)
    assert not cloud_tasks.CHECKOV_MODE.exists()
    monkeypatch.setenv("CI", "false")
    assert cloud_tasks._checkov([]) is None
    assert cloud_tasks.CHECKOV_MODE.read_text() == "skipped\n"


def test_checkov_task_follows_its_config_and_the_overlays(
    in_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = cloud_tasks.task_checkov(resolve(["list"], in_project))
    envs = task["actions"][0][1][0]
    assert "minikube" in envs and "local" not in envs
    assert task["task_dep"] == [f"validate:k8s-{env}" for env in envs]
    assert ".checkov.yaml" not in task["file_dep"]  # this copy has none
    assert ".build/manifests/minikube.yaml" in task["file_dep"]
    assert "terraform/modules/eks/main.tf" in task["file_dep"]
    assert task["uptodate"] == [cloud_tasks._checkov_ran]
    monkeypatch.chdir(REPO)
    assert ".checkov.yaml" in cloud_tasks.task_checkov(resolve(["list"], REPO))["file_dep"]


# --------------------------------------------------------------------------- adapters


def _result(code: int, out: str, err: str) -> checkov.Scan:
    return checkov.Scan("terraform", tools.Result(code, out, err), 0.5)


def test_a_checkov_scan_reads_its_result() -> None:
    out = "x\nPassed checks: 1, Failed checks: 0, Skipped checks: 0  \nnot: Passed checks: 9\n"
    scan = _result(0, out, "ignored")
    assert scan.passed is True and scan.summary == ["Passed checks: 1, Failed checks: 0, Skipped checks: 0"]
    assert scan.report == out.strip()
    failed = _result(2, "  ", " crashed \n")
    assert failed.passed is False and failed.summary == [] and failed.report == "crashed"


def test_checkov_scan_times_itself(checkov_project: Path, fakes: Path) -> None:
    scan: Any = checkov.scan("terraform", ["--framework", "terraform"])
    assert scan.passed and 0 < scan.seconds < 60 and scan.framework == "terraform"
