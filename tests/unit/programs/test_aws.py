"""tasks/programs/aws.py: the AWS CLI calls (EKS kubeconfig, the ECR password) against a recording
fake `aws` first on PATH (testing/cloudcli.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.programs import aws, tools
from testing.cloudcli import calls, cloud_fakes

__all__ = ["cloud_fakes"]  # the fixture


def test_update_kubeconfig_aliases_the_context_to_the_cluster(cloud_fakes: Path) -> None:
    aws.update_kubeconfig("us-east-2", "team-dev")
    assert calls(cloud_fakes) == [
        [
            "aws",
            "eks",
            "update-kubeconfig",
            "--region",
            "us-east-2",
            "--name",
            "team-dev",
            "--alias",
            "team-dev",
        ]
    ]


def test_the_ecr_password_is_what_aws_printed_without_its_newline(cloud_fakes: Path) -> None:
    assert aws.ecr_password("eu-west-1") == "s3cr3t-token"
    assert calls(cloud_fakes) == [["aws", "ecr", "get-login-password", "--region", "eu-west-1"]]


def test_without_the_aws_cli_the_error_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # the virtualenv's bin folder has no `aws` either
    assert tools.which("aws") is None
    with pytest.raises(StackError) as failed:
        aws.update_kubeconfig("us-east-2", "team-dev")
    assert failed.value.message == "`aws` is not installed or not on PATH."
    assert failed.value.fix == tools.INSTALL_HINTS["aws"]
