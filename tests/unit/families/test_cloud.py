"""tasks/families/cloud.py: the kubeconfig, registry_login, push and checkov tasks, each on its
environment's own cluster and registry, against recording fakes of `aws`, `docker` and `checkov`
first on PATH (testing/cloudcli.py). What each operation does is tested in tests/unit/ops/
(test_cloud.py, test_checkov.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tasks.cli.resolve import resolve
from tasks.config import load as config
from tasks.families import cloud as cloud_tasks
from tasks.families.shared.run import Run
from tasks.ops import checkov as checkov_ops
from tasks.programs import tools
from testing.cloudcli import REGISTRY, calls, cloud_fakes, logged, write_ref
from testing.project import REPO
from testing.tasks import run_action, subtask, up_to_date

__all__ = ["cloud_fakes"]  # the fixture


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


def test_an_environment_without_a_cloud_block_is_refused(in_project: Path, cloud_fakes: Path) -> None:
    for action in (cloud_tasks._kubeconfig, cloud_tasks._login):
        failed = action("local")
        assert failed is not None and "environment 'local' has no `cloud:` block" in str(failed)
        assert "add one to environments/local.yaml" in str(failed)
    assert calls(cloud_fakes) == []


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
    assert [args for _, args in push["actions"]] == [["prod", names, ()]]


@pytest.mark.parametrize(
    ("listed", "folders"),
    [
        ("[linux/amd64, linux/arm64]", ["images", "images-arm64"]),
        ("[linux/arm64]", ["images-arm64"]),  # the nodes are arm64 alone: the host's are not pushed
        ("[linux/amd64]", ["images"]),
    ],
)
def test_push_waits_for_the_images_of_each_platform_it_pushes_and_no_other(
    in_project: Path, monkeypatch: pytest.MonkeyPatch, listed: str, folders: list[str]
) -> None:
    monkeypatch.setattr("platform.machine", lambda: "x86_64")
    with (in_project / "environments" / "prod.yaml").open("a") as f:
        f.write(f"images:\n  platforms: {listed}\n")
    run = resolve(["list"], in_project)
    (push,) = [t for t in cloud_tasks.task_push(run) if t["name"] == "prod"]
    names = run.config("prod").cluster_images()
    assert push["file_dep"] == [f".build/prod/{d}/{n}.ref" for d in folders for n in names]
    assert push["targets"] == [f".build/prod/push/{n}.ref" for n in names]


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
def checkov_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud_fakes: Path) -> Path:
    """A folder with terraform/ and a .checkov.yaml, the fake checkov on PATH."""
    folder = tmp_path / "p"
    (folder / "terraform").mkdir(parents=True)
    (folder / ".checkov.yaml").write_text("skip-check:\n  - CKV_X_9  # safe by design here\n")
    monkeypatch.chdir(folder)
    return folder


def test_checkov_reads_the_projects_config_and_records_its_run(
    checkov_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud_tasks.CHECKOV_MODE.parent.mkdir(parents=True)
    cloud_tasks.CHECKOV_MODE.write_text("skipped\n")
    assert checkov_ran() is False
    assert cloud_tasks._checkov(["dev"]) is None
    out = capsys.readouterr().out
    assert "  skipping CKV_X_9: safe by design here" in out
    assert "  checkov terraform: Passed checks: 4, Failed checks: 0, Skipped checks: 0 (" in out
    assert checkov_ran() is True


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
    assert len(task["uptodate"]) == 1 and up_to_date(task) is False  # checkov never ran in this copy
    monkeypatch.chdir(REPO)
    assert ".checkov.yaml" in cloud_tasks.task_checkov(resolve(["list"], REPO))["file_dep"]


def kubeconfig(env: str) -> Any:
    """`kubeconfig:<env>`'s action, as doit runs it (None: done; a TaskFailed: failed)."""
    return run_action(subtask(cloud_tasks.task_kubeconfig(resolve(["list"], Path.cwd())), env))


def login(env: str) -> Any:
    return run_action(subtask(cloud_tasks.task_registry_login(resolve(["list"], Path.cwd())), env))


def checkov_ran() -> Any:
    """The checkov task's up-to-date check: true only after checkov really ran (what it reads does
    not depend on the environments, so none are loaded)."""
    run = Run(root=Path.cwd(), command="list", words=[], vars={}, env="dev", envs=[])
    return up_to_date(cloud_tasks.task_checkov(run))


def test_kubeconfig_points_at_the_environments_own_cluster(in_project: Path, cloud_fakes: Path) -> None:
    assert kubeconfig("prod") is None
    assert calls(cloud_fakes) == [
        [
            "aws",
            "eks",
            "update-kubeconfig",
            "--region",
            "us-west-2",
            "--name",
            "srvthreds-prod",
            "--alias",
            "srvthreds-prod",
        ]
    ]


def test_registry_login_logs_in_to_the_environments_registry(in_project: Path, cloud_fakes: Path) -> None:
    assert login("dev") is None
    assert [(c["argv"], c["stdin"]) for c in logged(cloud_fakes)] == [
        (["aws", "ecr", "get-login-password", "--region", "us-west-2"], None),
        (["docker", "login", "--username", "AWS", "--password-stdin", REGISTRY], "s3cr3t-token"),
    ]


def test_push_sends_to_the_environments_registry_and_records_under_its_push_folder(
    cloud_fakes: Path, in_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_ref("staging", "engine", "srvthreds/engine:1a2b3c4d5e6f")
    write_ref("staging", "bootstrap", "srvthreds/bootstrap:0f0f0f0f0f0f")
    monkeypatch.setenv("FAKE_PRESENT", "srvthreds/bootstrap:0f0f0f0f0f0f")
    assert cloud_tasks._push("staging", ["bootstrap", "engine"], ()) is None
    reg = REGISTRY
    inspect = ["skopeo", "inspect", "--raw", "--retry-times", "2"]
    assert [c for c in calls(cloud_fakes) if c[0] != "git"] == [
        [*inspect, f"docker://{reg}/srvthreds/bootstrap:0f0f0f0f0f0f"],
        [*inspect, f"docker://{reg}/srvthreds/engine:1a2b3c4d5e6f"],
        ["docker", "tag", "srvthreds/engine:1a2b3c4d5e6f", f"{reg}/srvthreds/engine:1a2b3c4d5e6f"],
        ["docker", "push", f"{reg}/srvthreds/engine:1a2b3c4d5e6f"],
        [*inspect, f"docker://{reg}/srvthreds/engine:1a2b3c4d5e6f"],
    ]
    assert (in_project / "deploy/staging/release.yaml").is_file()
    pushed = in_project / ".build/staging/push"
    assert (pushed / "engine.ref").read_text().strip() == f"{reg}/srvthreds/engine:1a2b3c4d5e6f"
    assert (pushed / "bootstrap.ref").read_text().strip() == f"{reg}/srvthreds/bootstrap:0f0f0f0f0f0f"


def test_checkov_missing_locally_warns_and_reruns(
    in_project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tools, "which", lambda program: None)
    monkeypatch.delenv("CI", raising=False)
    assert cloud_tasks._checkov(["dev"]) == {"skipped": checkov_ops.SKIPPED}  # for the reports
    assert "SKIPPED: checkov is not installed" in capsys.readouterr().out
    assert checkov_ran() is False  # so doit never records it as done


def test_checkov_runs_one_scan_per_framework(
    in_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, ...]] = []

    def fake_run(program: str, *args: str, **kwargs: Any) -> tools.Result:
        calls.append((program, *args))
        return tools.Result(0, "Passed checks: 3, Failed checks: 0, Skipped checks: 0\n", "")

    monkeypatch.setattr(tools, "which", lambda program: f"/fake/{program}")
    monkeypatch.setattr(tools, "run", fake_run)
    assert cloud_tasks._checkov(["dev", "prod"]) is None
    common = ("--skip-download", "--quiet", "--compact")
    assert calls[:2] == [
        ("checkov", "-d", "terraform", "--framework", "terraform", *common),
        (
            "checkov",
            "--framework",
            "kubernetes",
            "-f",
            ".build/manifests/dev.yaml",
            "-f",
            ".build/manifests/prod.yaml",
            *common,
        ),
    ]
    assert (
        calls[2][:3] == ("checkov", "--framework", "dockerfile")
        and "demo/docker/Dockerfile.builder" in calls[2]
    )
    assert checkov_ran() is True


def test_push_never_pushes_the_builder(project: Path) -> None:
    # push:dev's inputs are the refs of what the cluster runs: the builder is not one of them.
    tasks = list(cloud_tasks.task_push(resolve(["list"], project)))
    dev = next(t for t in tasks if t.get("name") == "dev")
    assert sorted(Path(p).stem for p in dev["file_dep"]) == [
        "bootstrap",
        "engine",
        "persistence-agent",
        "session-agent",
    ]
