"""tasks/families/cloud.py: kubeconfig, registry_login, push and checkov against recording fakes of `aws`,
`docker` and `checkov` first on PATH."""

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
from tasks.ops import cloud as cloud_ops
from tasks.programs import checkov, tools
from testing import harness
from testing.project import REPO
from testing.tasks import run_action, subtask, up_to_date

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


def test_an_environment_without_a_cloud_block_is_refused(in_project: Path, fakes: Path) -> None:
    for action in (cloud_tasks._kubeconfig, cloud_tasks._login):
        failed = action("local")
        assert failed is not None and "environment 'local' has no `cloud:` block" in str(failed)
        assert "add one to environments/local.yaml" in str(failed)
    assert calls(fakes) == []


def test_kubeconfig_and_login_say_what_they_did(
    in_project: Path, fakes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kubeconfig("dev") is None
    assert (
        "kubectl context srvthreds-dev points at EKS cluster srvthreds-dev (us-west-2)"
        in capsys.readouterr().out
    )
    assert login("dev") is None
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
    # A cloud environment's registry is ECR (a rule); the operation alone still says so.
    cloud_ops.login("registry.example.com/team", "us-west-2")
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
    assert [args for _, args in push["actions"]] == [["prod", names]]


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
    assert checkov_ran() is False
    assert cloud_tasks._checkov(["dev"]) is None
    out = capsys.readouterr().out
    assert "  skipping CKV_X_9: safe by design here" in out
    assert "  checkov terraform: Passed checks: 4, Failed checks: 0, Skipped checks: 0 (" in out
    assert checkov_ran() is True
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
    assert cloud_tasks._checkov(["dev"]) is None and checkov_ran()
    monkeypatch.setenv("FAKE_CHECKOV_FAIL", "kubernetes")
    monkeypatch.setenv("FAKE_CHECKOV_SILENT", "terraform")
    failed = cloud_tasks._checkov(["dev"])
    assert failed is not None
    assert "checkov found problems:\n[kubernetes]\nPassed checks: 4, Failed checks: 1" in str(failed)
    assert "CKV_X_1: kubernetes" in str(failed) and "[terraform]" not in str(failed)
    assert "  checkov terraform: no summary (" in capsys.readouterr().out
    # The earlier pass is forgotten: the next run checks again.
    assert checkov_ran() is False


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
    assert len(task["uptodate"]) == 1 and up_to_date(task) is False  # checkov never ran in this copy
    monkeypatch.chdir(REPO)
    assert ".checkov.yaml" in cloud_tasks.task_checkov(resolve(["list"], REPO))["file_dep"]


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


FAKE_AWS_DOCKER = """#!{python}
import json, os, sys
name = os.path.basename(sys.argv[0])
args = sys.argv[1:]
stdin = sys.stdin.read() if args[:1] == ["login"] else ""
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps([name, *args] + ([{{"stdin": stdin}}] if stdin else [])) + "\\n")
if name == "aws" and args[:2] == ["ecr", "get-login-password"]:
    print("s3cr3t-token")
if name == "docker" and args[:1] == ["build"]:
    import hashlib
    iid = args[args.index("--iidfile") + 1]
    salted = " ".join(args) + os.environ.get("FAKE_SALT", "")
    open(iid, "w").write("sha256:" + hashlib.sha256(salted.encode()).hexdigest())
if name == "docker" and args[:2] == ["image", "ls"]:
    # The daemon holds every image recorded under .build/ (so they are up to date).
    import glob
    for ref in glob.glob(".build/*/images/*.ref"):
        print(open(ref[:-4] + ".iid").read().strip(), open(ref).read().strip())
if name == "docker" and args[:2] == ["manifest", "inspect"]:
    present = os.environ.get("FAKE_PRESENT", "").split(",")
    sys.exit(0 if any(args[2].endswith("/" + ref) for ref in present if ref) else 1)
"""


@pytest.fixture
def aws_docker(in_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Recording `aws` and `docker` first on PATH; returns the log file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("aws", "docker"):
        harness.script(bin_dir, name, FAKE_AWS_DOCKER.format(python=sys.executable))
    log = tmp_path / "calls.jsonl"
    log.touch()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LOG", str(log))
    return log


def _calls(log: Path) -> list[list[Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def _write_refs(project: Path, env: str, refs: dict[str, str]) -> None:
    folder = project / ".build" / env / "images"
    folder.mkdir(parents=True, exist_ok=True)
    for name, ref in refs.items():
        (folder / f"{name}.ref").write_text(ref + "\n")
        (folder / f"{name}.iid").write_text(f"sha256:{ref.rsplit(':', 1)[1]}\n")


def test_kubeconfig_runs_aws_eks_update_kubeconfig(aws_docker: Path) -> None:
    assert kubeconfig("prod") is None
    assert _calls(aws_docker) == [
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


def test_kubeconfig_without_aws_gives_the_install_hint(
    in_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(tools, "which", lambda program: None)
    monkeypatch.setattr("tasks.programs.tools.shutil.which", lambda *a, **k: None)
    failed = kubeconfig("dev")
    assert "`aws` is not installed" in str(failed) and tools.INSTALL_HINTS["aws"] in str(failed)


def test_registry_login_pipes_the_password_through_stdin(aws_docker: Path) -> None:
    assert login("dev") is None
    registry = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
    assert _calls(aws_docker) == [
        ["aws", "ecr", "get-login-password", "--region", "us-west-2"],
        ["docker", "login", "--username", "AWS", "--password-stdin", registry, {"stdin": "s3cr3t-token"}],
    ]


def test_push_skips_images_already_in_the_registry(
    aws_docker: Path, in_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_refs(
        in_project,
        "staging",
        {"engine": "srvthreds/engine:1a2b3c4d5e6f", "bootstrap": "srvthreds/bootstrap:0f0f0f0f0f0f"},
    )
    monkeypatch.setenv("FAKE_PRESENT", "srvthreds/bootstrap:0f0f0f0f0f0f")
    assert cloud_tasks._push("staging", ["bootstrap", "engine"]) is None
    reg = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
    assert _calls(aws_docker) == [
        ["docker", "manifest", "inspect", f"{reg}/srvthreds/bootstrap:0f0f0f0f0f0f"],
        ["docker", "manifest", "inspect", f"{reg}/srvthreds/engine:1a2b3c4d5e6f"],
        ["docker", "tag", "srvthreds/engine:1a2b3c4d5e6f", f"{reg}/srvthreds/engine:1a2b3c4d5e6f"],
        ["docker", "push", f"{reg}/srvthreds/engine:1a2b3c4d5e6f"],
    ]
    pushed = in_project / ".build/staging/push"
    assert (pushed / "engine.ref").read_text().strip() == f"{reg}/srvthreds/engine:1a2b3c4d5e6f"
    assert (pushed / "bootstrap.ref").read_text().strip() == f"{reg}/srvthreds/bootstrap:0f0f0f0f0f0f"


def test_push_without_built_images_says_so(aws_docker: Path) -> None:
    failed = cloud_tasks._push("prod", ["engine"])
    assert "no built image recorded for engine" in str(failed)
    assert _calls(aws_docker) == []


def test_checkov_skips_need_a_reason() -> None:
    text = "quiet: true\nskip-check:\n  - CKV_K8S_15  # immutable content tags make Always pointless\n"
    assert cloud_tasks.documented_skips(text) == {
        "CKV_K8S_15": "immutable content tags make Always pointless"
    }
    with pytest.raises(StackError, match="CKV_K8S_35 is skipped without a reason"):
        cloud_tasks.documented_skips("skip-check:\n  - CKV_K8S_35\n")


def test_checkov_missing_fails_under_ci(in_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tools, "which", lambda program: None)
    monkeypatch.setenv("CI", "true")
    assert "checkov is not installed, and CI must run it" in str(cloud_tasks._checkov(["dev"]))


def test_checkov_missing_locally_warns_and_reruns(
    in_project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tools, "which", lambda program: None)
    monkeypatch.delenv("CI", raising=False)
    assert cloud_tasks._checkov(["dev"]) is None
    assert cloud_tasks.CHECKOV_SKIPPED in capsys.readouterr().out
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
