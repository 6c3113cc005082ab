"""`doit tf_plan`, `tf_apply`, `tf_fmt` and `tf_validate` in a copy of the project; Terraform faked where
the program starts (testing/fakes/terraform), or the real embedded one offline for fmt and validate."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tasks.ops import terraform as tf_ops
from testing.fakes.terraform import FakeTerraform
from testing.project import run_doit

PLAN_SKIP = (
    "SKIPPED: provider schema validation (providers not installable here; set STACKBUILD_TF_PLUGIN_DIR"
)


MIRROR = os.environ.get("STACKBUILD_TF_PLUGIN_DIR", "")


def test_doit_replans_only_when_inputs_change(project: Path, fake_terraform: FakeTerraform) -> None:
    first = run_doit(project, "tf_plan:dev")
    assert first.code == 0, first.out
    assert "tf_plan:dev" in first.executed() and fake_terraform.commands() == ["init", "plan"]
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
    assert fake_terraform.commands()[-1] == "apply"


def test_doit_apply_refuses_a_stale_plan(project: Path, fake_terraform: FakeTerraform) -> None:
    assert run_doit(project, "tf_plan:staging").code == 0
    variables = project / "terraform/environments/staging/variables.tf"
    variables.write_text(variables.read_text() + "\n# edited\n")
    result = run_doit(project, "tf_apply:staging")
    assert result.code != 0
    assert "the plan for staging is stale: run `doit tf_plan:staging`" in result.out
    assert "apply" not in fake_terraform.commands()


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


def tf_directories(project: Path) -> int:
    """Each folder of Terraform files is one validation (the modules and the environments)."""
    return len({path.parent for path in (project / "terraform").rglob("*.tf")})


def test_tf_validate_falls_back_and_says_what_was_skipped(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STACKBUILD_TF_PLUGIN_DIR", raising=False)
    result = run_doit(project, "tf_validate")
    assert result.code == 0, result.out
    assert f"structural checks (python-hcl2) of {tf_directories(project)} directories: OK" in result.out
    assert PLAN_SKIP in result.out and "STACKBUILD_TF_PLUGIN_DIR is not set" in result.out
    # Recorded for these inputs (a no-op re-parses nothing), yet never a silent pass: the next
    # run reports the skip and its reason again, and setting the mirror tries the schema part.
    again = run_doit(project, "tf_validate")
    assert again.executed() == []
    assert "tf_validate  skipped (provider schema validation" in again.out
    monkeypatch.setenv("STACKBUILD_TF_PLUGIN_DIR", str(project / "no-mirror"))
    retried = run_doit(project, "tf_validate")
    assert "tf_validate" in retried.executed() and "no-mirror is not a directory" in retried.out


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
    assert f"terraform validate: 0 validated, {tf_directories(project)} NOT validated" in result.out
    again = run_doit(project, "tf_validate")
    assert again.executed() == [] and "tf_validate  skipped (terraform validate of terraform/" in again.out
    # A provider added to the mirror: the directories are tried again.
    (empty / "registry.terraform.io/hashicorp/tls/4.0.6/linux_amd64").mkdir(parents=True)
    assert "tf_validate" in run_doit(project, "tf_validate").executed()


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


@pytest.mark.optin
@pytest.mark.skipif(
    not (MIRROR and tf_ops.mirror_providers(Path(MIRROR)) >= {"hashicorp/aws"}),
    reason="needs STACKBUILD_TF_PLUGIN_DIR with at least hashicorp/aws",
)
def test_tf_validate_with_a_real_partial_mirror(project: Path) -> None:
    """With a real mirror holding the AWS provider: every aws-only module is validated by
    Terraform against the provider's schema, and the others are named with what they lack."""
    result = run_doit(project, "tf_validate")
    assert result.code == 0, result.out
    for module in ("ecr", "github-oidc", "networking", "rds-postgres"):
        assert f"terraform validate terraform/modules/{module}: OK" in result.out
    if "hashicorp/tls" not in tf_ops.mirror_providers(Path(MIRROR)):
        assert (
            "SKIPPED terraform validate terraform/modules/eks: provider hashicorp/tls not in the mirror"
            in result.out
        )
