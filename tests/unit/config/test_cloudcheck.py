"""Two cloud environments never share one cluster (tasks/config/cloudcheck.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.config import cloudcheck
from tasks.errors import ConfigError, StackError
from tasks.model import Config
from testing.configs import cloud, config


def cloud_env(root: Path, env: str, cluster: str, region: str = "us-west-2") -> Config:
    folder = root / "environments"
    folder.mkdir(exist_ok=True)
    (folder / f"{env}.yaml").write_text(
        f"# {env}\nruntime: kubernetes\ncloud:\n  region: {region}\n  cluster_name: {cluster}\n"
    )
    return config(env, [], [], runtime="kubernetes", cloud=cloud(cluster, region))


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
        "local": config("local", [], []),
        "broken": StackError("bad file"),
    }
    cloudcheck.check_distinct_clusters(tmp_path, list(loaded) + ["missing"], loaded)


def test_broken_or_local_environments_are_skipped_on_either_side(tmp_path: Path) -> None:
    loaded: dict[str, Config | StackError] = {
        "dev": cloud_env(tmp_path, "dev", "shop-dev"),
        "broken": StackError("bad file"),
        "local": config("local", [], []),
    }
    cloudcheck.check_distinct_clusters(tmp_path, ["dev", "broken", "local"], loaded)
    # A third environment: the first one seen owns the cluster.
    loaded["qa"] = cloud_env(tmp_path, "qa", "shop-dev")
    loaded["qa2"] = cloud_env(tmp_path, "qa2", "shop-dev")
    assert "is also environment dev's" in clash(tmp_path, ["qa2"], loaded).problem
