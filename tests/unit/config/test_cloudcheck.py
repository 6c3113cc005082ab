"""tasks/config/cloudcheck.py: the cloud block of environments/<env>.yaml, checked against the stack;
an error names the file, key and line, and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.config import cloudcheck
from tasks.errors import ConfigError, StackError
from tasks.model import Config
from testing.configs import cloud, edit, error, line_of
from testing.configs import config as make_config


def cloud_env(root: Path, env: str, cluster: str, region: str = "us-west-2") -> Config:
    folder = root / "environments"
    folder.mkdir(exist_ok=True)
    (folder / f"{env}.yaml").write_text(
        f"# {env}\nruntime: kubernetes\ncloud:\n  region: {region}\n  cluster_name: {cluster}\n"
    )
    return make_config(env, [], [], runtime="kubernetes", cloud=cloud(cluster, region))


def clash(root: Path, wanted: list[str], loaded: dict[str, Config | StackError]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        cloudcheck.check_distinct_clusters(root, wanted, loaded)
    return info.value


def test_a_copied_environment_sharing_the_cluster_is_refused_at_its_cluster_name(tmp_path: Path) -> None:
    loaded: dict[str, Config | StackError] = {
        "dev": cloud_env(tmp_path, "dev", "shop-dev"),
        "qa": cloud_env(tmp_path, "qa", "shop-dev"),
    }
    err = clash(tmp_path, ["qa"], loaded)
    assert (err.file, err.keypath, err.line) == ("environments/qa.yaml", "cloud.cluster_name", 5)
    assert err.problem == (
        "cluster shop-dev (us-west-2) is also environment dev's (environments/dev.yaml): "
        "its cloud tasks would change that cluster"
    )
    assert err.fix == "give qa its own cluster_name (and state bucket) under cloud:"
    # Asked for the first of the two, the other one is named.
    assert "is also environment qa's (environments/qa.yaml)" in clash(tmp_path, ["dev"], loaded).problem


def test_distinct_clusters_and_other_regions_pass(tmp_path: Path) -> None:
    loaded: dict[str, Config | StackError] = {
        "dev": cloud_env(tmp_path, "dev", "shop-dev"),
        "prod": cloud_env(tmp_path, "prod", "shop-prod"),
        "eu": cloud_env(tmp_path, "eu", "shop-dev", region="eu-west-1"),
        "local": make_config("local", [], []),
        "broken": StackError("bad file"),
    }
    cloudcheck.check_distinct_clusters(tmp_path, list(loaded) + ["missing"], loaded)


def test_broken_or_local_environments_are_skipped_on_either_side(tmp_path: Path) -> None:
    loaded: dict[str, Config | StackError] = {
        "dev": cloud_env(tmp_path, "dev", "shop-dev"),
        "broken": StackError("bad file"),
        "local": make_config("local", [], []),
    }
    cloudcheck.check_distinct_clusters(tmp_path, ["dev", "broken", "local"], loaded)
    # A third environment: the first one seen owns the cluster.
    loaded["qa"] = cloud_env(tmp_path, "qa", "shop-dev")
    loaded["qa2"] = cloud_env(tmp_path, "qa2", "shop-dev")
    assert "is also environment dev's" in clash(tmp_path, ["qa2"], loaded).problem


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


def shared_env(root: Path, env: str, *, shared: bool, account: str = "123456789012") -> Config:
    folder = root / "environments"
    folder.mkdir(exist_ok=True)
    (folder / f"{env}.yaml").write_text(f"# {env}\ncloud:\n  create_shared: {str(shared).lower()}\n")
    registry = f"{account}.dkr.ecr.us-west-2.amazonaws.com"
    return make_config(
        env, [], [], runtime="kubernetes", cloud=cloud(f"shop-{env}", registry=registry, create_shared=shared)
    )


def test_two_environments_of_one_account_creating_the_shared_resources_are_refused(tmp_path: Path) -> None:
    loaded: dict[str, Config | StackError] = {
        "prod": shared_env(tmp_path, "prod", shared=True),
        "dev": shared_env(tmp_path, "dev", shared=True),
        "qa": shared_env(tmp_path, "qa", shared=False),
    }
    with pytest.raises(ConfigError) as info:
        cloudcheck.check_shared_created_once(tmp_path, loaded)
    err = info.value
    assert (err.file, err.keypath, err.line) == ("environments/prod.yaml", "cloud.create_shared", 3)
    assert err.problem.startswith(
        "environment dev (environments/dev.yaml) already creates what AWS account 123456789012 shares"
    )
    assert err.fix == (
        "remove `create_shared: true` here (one environment per account creates them; prod uses them)"
    )


def test_one_creator_per_account_passes(tmp_path: Path) -> None:
    loaded: dict[str, Config | StackError] = {
        "dev": shared_env(tmp_path, "dev", shared=True),
        "eu": shared_env(tmp_path, "eu", shared=True, account="210987654321"),
        "prod": shared_env(tmp_path, "prod", shared=False),
        "local": make_config("local", [], []),
        "broken": StackError("bad file"),
    }
    cloudcheck.check_shared_created_once(tmp_path, loaded)
