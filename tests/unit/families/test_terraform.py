"""tasks/families/terraform.py: tf_fmt, tf_validate, tf_plan and tf_apply, each action run as doit runs it.

Terraform is faked where the program starts (testing/fakes/terraform): tools.terraform, its child
process and the exit-code handling are the real ones. The fmt and validate tests use the real
embedded Terraform, offline. What a plan is made from, and validation against a provider mirror
directory by directory, are tested on the operations themselves (tests/unit/ops/test_terraform.py)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tasks.cli.resolve import resolve
from tasks.families import terraform as terraform_tasks
from tasks.families.shared.run import Run
from tasks.ops import terraform as tf_ops
from tasks.store import state
from testing.fakes.terraform import FakeTerraform
from testing.project import REPO
from testing.tasks import run_action, subtask, up_to_date


@pytest.fixture
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(project)
    return project


def _run() -> Run:
    return resolve(["list"], Path.cwd())


def plan(env: str) -> Any:
    """`tf_plan:<env>`'s action, as doit runs it (None: done; a TaskFailed: failed)."""
    return run_action(subtask(terraform_tasks.task_tf_plan(_run()), env))


def apply(env: str) -> Any:
    return run_action(subtask(terraform_tasks.task_tf_apply(_run()), env))


def _bare_run() -> Run:
    # tf_fmt and tf_validate read terraform/ only: no environment is loaded (some trees have none).
    return Run(root=Path.cwd(), command="run", words=[], vars={}, env="local", envs=[])


def fmt(fix: bool = False) -> Any:
    return run_action(terraform_tasks.task_tf_fmt(_bare_run()), fix=fix)


def validate() -> Any:
    return run_action(terraform_tasks.task_tf_validate(_bare_run()))


def validated_fully() -> Any:
    """tf_validate's up-to-date check: true only after a full schema validation."""
    return up_to_date(terraform_tasks.task_tf_validate(_bare_run()))


def test_plan_inits_with_backend_and_saves_the_plan(in_project: Path, fake_terraform: FakeTerraform) -> None:
    assert plan("prod") is None
    (init, init_cwd, init_env), (planned, plan_cwd, _) = fake_terraform.calls
    assert init == ("init", "-input=false", "-no-color", "-reconfigure", "-backend-config=backend.hcl")
    assert init_cwd == plan_cwd == "terraform/environments/prod"
    # Terraform's working data lives under .build, never in the source tree.
    assert init_env["TF_DATA_DIR"] == str((in_project / ".build/prod/terraform/data").resolve())
    out = (in_project / ".build/prod/terraform/plan.tfplan").resolve()
    assert planned == ("plan", "-input=false", "-no-color", f"-out={out}")
    assert out.read_bytes() == b"fake plan"
    assert (in_project / ".build/prod/terraform/plan.inputs").read_text().strip() == tf_ops.inputs_hash(
        "prod"
    )


def test_apply_applies_exactly_the_saved_plan_once(in_project: Path, fake_terraform: FakeTerraform) -> None:
    plan("prod")
    fake_terraform.clear()
    assert apply("prod") is None
    assert fake_terraform.commands() == ["init", "apply"]
    args, cwd, _ = fake_terraform.calls[1]
    assert args == (
        "apply",
        "-input=false",
        "-no-color",
        str((in_project / ".build/prod/terraform/plan.tfplan").resolve()),
    )
    assert cwd == "terraform/environments/prod"
    failed = apply("prod")  # the plan was used up
    assert "no saved plan for prod" in str(failed)


def test_apply_refuses_a_stale_plan(in_project: Path, fake_terraform: FakeTerraform) -> None:
    plan("prod")
    main = in_project / "terraform/modules/eks/main.tf"
    main.write_text(main.read_text() + "\n# changed after the plan\n")
    fake_terraform.clear()
    failed = apply("prod")
    assert "the plan for prod is stale: run `doit tf_plan:prod`" in str(failed)
    assert fake_terraform.calls == []


def test_apply_without_a_plan_says_how_to_make_one(in_project: Path, fake_terraform: FakeTerraform) -> None:
    failed = apply("staging")
    assert "no saved plan for staging" in str(failed) and "doit tf_plan:staging" in str(failed)
    assert fake_terraform.calls == []


PLAN = Path(".build/prod/terraform/plan.tfplan")


INPUTS = Path(".build/prod/terraform/plan.inputs")


def test_plan_prints_terraforms_counts_and_where_the_plan_is(
    in_project: Path, fake_terraform: FakeTerraform, capfd: pytest.CaptureFixture[str]
) -> None:
    assert plan("prod") is None
    out = capfd.readouterr().out
    assert f"tf_plan:prod summary: 1 to add, 0 to change, 0 to destroy; plan file {PLAN}" in out
    assert "apply exactly this plan with `doit tf_apply:prod`" in out
    assert apply("prod") is None
    assert (
        f"tf_apply:prod summary: 1 added, 0 changed, 0 destroyed; applied plan file {PLAN} (used up)"
        in capfd.readouterr().out
    )


def test_a_failed_replan_leaves_no_plan_that_looks_current(
    in_project: Path, fake_terraform: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert plan("prod") is None
    assert PLAN.exists() and INPUTS.exists()
    monkeypatch.setenv("FAKE_TF_FAIL", "plan")
    failed = plan("prod")
    assert failed is not None and "fake terraform plan failed" in str(failed)
    # The old plan and its inputs hash are gone: tf_apply cannot apply the previous plan.
    assert not PLAN.exists() and not INPUTS.exists()
    assert "no saved plan for prod" in str(apply("prod"))


def test_a_failed_apply_uses_up_the_plan_and_its_inputs(
    in_project: Path, fake_terraform: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert plan("prod") is None
    monkeypatch.setenv("FAKE_TF_FAIL", "apply")
    failed = apply("prod")
    assert failed is not None and "fake terraform apply failed" in str(failed)
    assert not PLAN.exists() and not INPUTS.exists()


def test_apply_needs_both_the_plan_and_its_inputs(in_project: Path, fake_terraform: FakeTerraform) -> None:
    for lost in (PLAN, INPUTS):
        assert plan("prod") is None
        lost.unlink()
        fake_terraform.clear()
        assert "there is no saved plan for prod" in str(apply("prod"))
        assert fake_terraform.calls == []


def test_fmt_fix_lists_what_it_rewrote_then_check_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "terraform").mkdir()
    bad = tmp_path / "terraform/x.tf"
    bad.write_text("locals {\nx=1\n}\n")
    failed = fmt()
    assert failed is not None and "  - terraform/x.tf" in str(failed)
    assert fmt(fix=True) is None
    assert "  formatted terraform/x.tf" in capsys.readouterr().out
    assert bad.read_text() == "locals {\n  x = 1\n}\n"
    assert fmt(fix=True) is None
    assert "terraform fmt: nothing to change" in capsys.readouterr().out
    assert fmt() is None
    assert "terraform fmt -check -recursive terraform: OK" in capsys.readouterr().out


def test_fmt_of_a_file_that_does_not_parse_shows_terraforms_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "terraform").mkdir()
    (tmp_path / "terraform/x.tf").write_text("locals {\n")
    failed = fmt()
    assert failed is not None
    # No file list to show: Terraform's own message says what is wrong.
    assert "` failed:\n" in str(failed) and "  - " not in str(failed).split("fix:")[0]
    assert "Unclosed configuration block" in str(failed)


def test_no_terraform_folder_is_nothing_to_check_and_validate_is_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert fmt() is None and fmt(fix=True) is None
    assert validate() is None
    assert capsys.readouterr().out.count(tf_ops.NO_TERRAFORM) == 3
    assert validated_fully() is True


def test_tf_fmt_task_with_fix_always_runs(in_project: Path) -> None:
    assert terraform_tasks.task_tf_fmt(resolve(["tf_fmt"], in_project))["uptodate"] == [True]
    assert terraform_tasks.task_tf_fmt(resolve(["tf_fmt", "fix=1"], in_project))["uptodate"] == [False]


VERSIONS = (
    'terraform {\n  required_version = ">= 1.6.0"\n  required_providers {\n    tls = {\n'
    '      source  = "hashicorp/tls"\n      version = ">= 4.0"\n    }\n  }\n}\n'
)


VARIABLES = 'variable "algorithm" {\n  type        = string\n  description = "Key algorithm."\n}\n'


SMALL_TREE = {
    "modules/key/README.md": "# key\n",
    "modules/key/main.tf": 'resource "tls_private_key" "k" {\n  algorithm = var.algorithm\n}\n',
    "modules/key/outputs.tf": 'output "pem" {\n  value = tls_private_key.k.public_key_pem\n}\n',
    "modules/key/variables.tf": VARIABLES,
    "modules/key/versions.tf": VERSIONS,
    "environments/dev/backend.hcl": "# local state\n",
    "environments/dev/main.tf": (
        'module "key" {\n  source    = "../../modules/key"\n  algorithm = var.algorithm\n}\n'
    ),
    "environments/dev/outputs.tf": 'output "pem" {\n  value = module.key.pem\n}\n',
    "environments/dev/terraform.tfvars": 'algorithm = "ED25519"\n',
    "environments/dev/variables.tf": VARIABLES,
    "environments/dev/versions.tf": VERSIONS,
}


@pytest.fixture
def small_tf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose terraform/ (one module, one root) passes the structural checks; returns
    a provider mirror holding what it needs (fake Terraform never opens it)."""
    project = tmp_path / "project"
    write_tree(project / "terraform", SMALL_TREE)
    monkeypatch.chdir(project)
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io/hashicorp/tls/4.0.6/linux_amd64").mkdir(parents=True)
    monkeypatch.setenv(terraform_tasks.PLUGIN_DIR_VAR, str(mirror))
    return mirror


def test_validate_with_every_provider_is_recorded_as_done(
    small_tf: Path, fake_terraform: FakeTerraform, capsys: pytest.CaptureFixture[str]
) -> None:
    assert validated_fully() is False
    assert validate() is None
    out = capsys.readouterr().out
    assert "structural checks (python-hcl2) of 2 directories: OK" in out
    assert "terraform validate terraform/modules/key: OK" in out
    assert "terraform validate terraform/environments/dev: OK" in out
    assert "SKIPPED" not in out
    assert validated_fully() is True
    # Each directory was initialised offline and validated, in the copy under .build/.
    assert [(args[0], cwd) for args, cwd, _ in fake_terraform.calls] == [
        ("init", ".build/terraform/validate/tree/modules/key"),
        ("validate", ".build/terraform/validate/tree/modules/key"),
        ("init", ".build/terraform/validate/tree/environments/dev"),
        ("validate", ".build/terraform/validate/tree/environments/dev"),
    ]


def test_validate_that_terraform_rejects_fails_and_is_not_done(
    small_tf: Path, fake_terraform: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_FAIL", "validate")
    failed = validate()
    assert failed is not None
    assert "terraform validate failed:\nterraform/modules/key:\nError: fake terraform validate failed" in str(
        failed
    )
    assert validated_fully() is False


def test_validate_with_a_provider_missing_is_a_reported_skip_until_the_mirror_changes(
    small_tf: Path, fake_terraform: FakeTerraform, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.rmtree(small_tf / "registry.terraform.io/hashicorp/tls")
    assert validate() is None
    out = capsys.readouterr().out
    assert "SKIPPED terraform validate terraform/modules/key: provider hashicorp/tls not in the mirror" in out
    assert "terraform validate: 0 validated, 2 NOT validated" in out
    assert fake_terraform.calls == []
    # Done for this mirror, and the skip is what later runs report...
    assert validated_fully() is True
    assert terraform_tasks.task_tf_validate(_bare_run())["meta"] == {
        "skipped": "terraform validate of terraform/modules/key, terraform/environments/dev "
        "(providers missing)"
    }
    # ...until the provider appears in it: then the schema part is tried again.
    (small_tf / "registry.terraform.io/hashicorp/tls/4.0.6/linux_amd64").mkdir(parents=True)
    assert validated_fully() is False


def test_validate_with_structural_problems_fails_before_terraform(
    small_tf: Path, fake_terraform: FakeTerraform
) -> None:
    Path("terraform/modules/key/variables.tf").write_text('variable "algorithm" {\n  type = string\n}\n')
    failed = validate()
    assert failed is not None and "variable algorithm has no description" in str(failed)
    assert validated_fully() is False
    assert fake_terraform.calls == []


def test_a_skip_forgets_an_earlier_full_validation_and_is_retried_when_the_mirror_is_named(
    small_tf: Path,
    tmp_path: Path,
    fake_terraform: FakeTerraform,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert validate() is None and validated_fully()
    assert "meta" not in terraform_tasks.task_tf_validate(_bare_run())
    monkeypatch.setenv(terraform_tasks.PLUGIN_DIR_VAR, str(tmp_path / "nowhere"))
    assert validate() == {"skipped": terraform_tasks.SKIPPED_SCHEMA}  # what the reports say
    out = capsys.readouterr().out
    assert terraform_tasks.SKIPPED_SCHEMA in out and f"{tmp_path / 'nowhere'} is not a directory" in out
    assert validated_fully() is True  # recorded for this value of the variable, as a skip
    assert f"{tmp_path / 'nowhere'} is not a directory" in str(terraform_tasks.skipped_part())
    monkeypatch.setenv(terraform_tasks.PLUGIN_DIR_VAR, str(small_tf))
    assert validated_fully() is False  # the variable changed: the schema part is tried again
    assert validate() is None and validated_fully()
    assert terraform_tasks.skipped_part() is None
    monkeypatch.delenv(terraform_tasks.PLUGIN_DIR_VAR)
    assert validated_fully() is True  # a full validation stays done: the mirror is no input of it
    assert validate() == {"skipped": terraform_tasks.SKIPPED_SCHEMA}  # run again: now it can only skip
    assert f"{terraform_tasks.PLUGIN_DIR_VAR} is not set" in capsys.readouterr().out
    assert validated_fully() is True
    assert terraform_tasks.task_tf_validate(_bare_run())["meta"]["skipped"].startswith(
        "provider schema validation"
    )


def test_structural_checks_judge_again_only_a_changed_directory(
    small_tf: Path, fake_terraform: FakeTerraform, capsys: pytest.CaptureFixture[str]
) -> None:
    assert validate() is None
    assert "of 2 directories: OK" in capsys.readouterr().out
    assert validate() is None
    assert "unchanged since they passed" in capsys.readouterr().out  # 2 of 2 taken from the record
    outputs = Path("terraform/environments/dev/outputs.tf")
    outputs.write_text(outputs.read_text() + "# edited\n")
    assert validate() is None
    assert "of 2 directories: OK" in (out := capsys.readouterr().out) and "1 unchanged since" in out
    # A change that breaks a directory is found, though the directory passed before.
    Path("terraform/modules/key/variables.tf").write_text('variable "algorithm" {\n  type = string\n}\n')
    failed = validate()
    assert failed is not None and "variable algorithm has no description" in str(failed)


def test_validate_runs_in_a_fresh_copy_without_terraforms_working_data(
    small_tf: Path, fake_terraform: FakeTerraform
) -> None:
    stale = terraform_tasks.VALIDATE_STATE / "tree" / "stale.tf"
    stale.parent.mkdir(parents=True)
    stale.write_text("left over\n")
    Path("terraform/modules/key/.terraform.lock.hcl").write_text("# lock\n")
    Path("terraform/modules/key/.terraform").mkdir()
    assert validate() is None
    copy = terraform_tasks.VALIDATE_STATE / "tree/modules/key"
    assert not stale.exists()
    assert not (copy / ".terraform.lock.hcl").exists() and not (copy / ".terraform").exists()
    assert (copy / "main.tf").is_file()


def test_validated_fully_reads_the_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(terraform_tasks.PLUGIN_DIR_VAR, raising=False)
    mode = terraform_tasks.MODE_FILE
    mode.parent.mkdir(parents=True)
    mode.write_text("schema skipped\n")
    assert validated_fully() is False
    mode.write_text("full\n")
    assert validated_fully() is True
    mode.write_text("skipped\n/some/mirror\nwhy\n")  # skipped for another mirror
    assert validated_fully() is False
    mode.write_text("skipped\n\nwhy\n")  # skipped with no mirror named, and none is
    assert validated_fully() is True and terraform_tasks.skipped_part() == "why"


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_plan_outside_the_tools_checkout_waits_for_the_module_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = shutil.copytree(REPO / "examples/guestbook", tmp_path / "guestbook")
    monkeypatch.chdir(example)
    run = resolve(["tf_plan"], example)
    (plan,) = [t for t in terraform_tasks.task_tf_plan(run) if t["name"] == "dev"]
    assert plan["task_dep"] == ["render:terraform-dev", "render:terraform-modules"]
    assert plan["targets"] == [str(state.terraform_dir("dev") / n) for n in ("plan.tfplan", "plan.inputs")]
    (apply,) = list(terraform_tasks.task_tf_apply(run))
    assert apply["uptodate"] == [False] and "task_dep" not in apply


def test_plan_in_the_tools_checkout_needs_only_its_root(in_project: Path) -> None:
    plans = {t["name"]: t for t in terraform_tasks.task_tf_plan(resolve(["tf_plan"], in_project))}
    assert plans["dev"]["task_dep"] == ["render:terraform-dev"]
    assert plans["dev"]["file_dep"] == tf_ops.plan_inputs("dev")


def test_tf_validate_task_reruns_until_fully_validated(in_project: Path) -> None:
    task = terraform_tasks.task_tf_validate(resolve(["tf_validate"], in_project))
    assert task["task_dep"] == ["render"]
    assert (
        "tasks/checks/tfcheck.py" in task["file_dep"] and "terraform/modules/eks/main.tf" in task["file_dep"]
    )
    plans = {t["name"]: t for t in terraform_tasks.task_tf_plan(resolve(["tf_plan"], in_project))}
    assert plans["dev"]["clean"] is True
