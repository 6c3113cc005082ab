"""tasks/config/cloudcheck.py: the cloud block of environments/<env>.yaml, checked against the stack;
an error names the file, key and line, and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.config import load as config
from tasks.errors import ConfigError


def edit(root: Path, name: str, old: str, new: str) -> None:
    path = root / "environments" / name
    text = path.read_text()
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1))


def error(root: Path, env: str | None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        config.load(env, root)
    return info.value


def line_of(root: Path, name: str, needle: str) -> int:
    lines = (root / "environments" / name).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def test_cluster_version_must_match_kubernetes_version(project: Path) -> None:
    edit(project, "staging.yaml", 'cluster_version: "1.33"', 'cluster_version: "1.31"')
    problem = error(project, "staging")
    assert problem.file == "environments/staging.yaml" and problem.keypath == "cloud.cluster_version"
    assert problem.line == line_of(project, "staging.yaml", "cluster_version:")
    assert (
        "EKS runs Kubernetes 1.31, but the manifests are validated against kubernetes_version 1.33.0"
        in str(problem)
    )
    assert 'set `cluster_version: "1.33"`' in str(problem.fix)


def test_public_endpoint_refuses_the_whole_internet(project: Path) -> None:
    edit(project, "dev.yaml", "endpoint_public_cidrs: [203.0.113.0/24]", "endpoint_public_cidrs: [0.0.0.0/0]")
    problem = error(project, "dev")
    assert (
        problem.keypath.startswith("cloud.endpoint_public_cidrs") and problem.file == "environments/dev.yaml"
    )
    assert "opens the Kubernetes API to the whole internet" in str(problem)


def test_public_endpoint_needs_cidrs(project: Path) -> None:
    edit(project, "dev.yaml", "  endpoint_public_cidrs: [203.0.113.0/24]\n", "")
    problem = error(project, "dev")
    assert "the public Kubernetes API endpoint has no allowed CIDR blocks" in str(problem)
    assert "endpoint_private: true" in str(problem.fix)


def test_access_entries_need_iam_arns(project: Path) -> None:
    edit(project, "prod.yaml", "admins: [arn:aws:iam::123456789012:role/platform-admin]", "admins: [alice]")
    assert "is not an IAM role or user ARN" in str(error(project, "prod"))


def test_cluster_version_error_is_a_config_error(project: Path) -> None:
    edit(project, "prod.yaml", 'cluster_version: "1.33"', 'cluster_version: "133"')
    assert isinstance(error(project, "prod"), ConfigError)
