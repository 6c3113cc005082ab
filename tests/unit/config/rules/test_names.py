"""Names the tool uses itself, lengths where names land, and files environments/ never reads
(tasks/config/rules/names.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.config import load as loader
from tasks.config.rules import names as rules
from tasks.errors import ConfigError
from testing.configs import KUBE, LOCAL, broken, read, small_project, stack, write


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_project(tmp_path)


@pytest.mark.parametrize("env", sorted(rules.RESERVED_ENVIRONMENTS))
def test_environment_names_are_not_the_tools(root: Path, env: str) -> None:
    write(root, f"{env}.yaml", KUBE)
    with pytest.raises(ConfigError) as info:
        rules.environment_names_are_not_the_tools(loader.read(env, root))
    err = info.value
    assert (err.file, err.keypath, err.line) == (f"environments/{env}.yaml", "(file name)", None)
    assert err.problem == f"{env!r} is a name the tool uses itself: {rules.RESERVED_ENVIRONMENTS[env]}"
    assert err.fix == f"rename the file, e.g. git mv environments/{env}.yaml environments/{env}-env.yaml"


def test_other_environment_names_and_the_stack_pass(root: Path) -> None:
    write(root, "base-2.yaml", KUBE)
    rules.environment_names_are_not_the_tools(loader.read("base-2", root))
    rules.environment_names_are_not_the_tools(read(root))


def test_environment_files_end_in_yaml(root: Path) -> None:
    write(root, "qa.yml", LOCAL)
    err = broken(rules.environment_files_end_in_yaml, root, None, LOCAL)
    assert (err.file, err.keypath) == ("environments/qa.yml", "(file name)")
    assert err.problem == "environments/qa.yml is never read: environment files end in .yaml"
    assert err.fix == "rename it: git mv environments/qa.yml environments/qa.yaml"
    (root / "environments" / "qa.yml").rename(root / "environments" / ".qa.yml")  # an editor's, hidden
    rules.environment_files_end_in_yaml(read(root, None, LOCAL))


@pytest.mark.parametrize("name", rules.TOOL_IMAGES)
def test_built_databases_are_not_named_like_the_tools_images(root: Path, name: str) -> None:
    (root / "db").mkdir()
    (root / "db" / "Dockerfile").write_text("FROM scratch\n")
    data = stack()
    data["databases"][name] = {"image": "x:1", "build": "db", "port": 1, "env_var": "OTHER_HOST"}
    err = broken(rules.built_databases_are_not_named_like_the_tools_images, root, data)
    assert err.keypath == f"databases.{name}"
    assert err.problem == (
        f"{name!r} is the name of the tool's own {name} image, and this database's image is built"
    )
    # Pulled, never built: its image has no record of ours to overwrite.
    del data["databases"][name]["build"]
    rules.built_databases_are_not_named_like_the_tools_images(read(root, data))


def test_cluster_database_names_fit_a_statefulset(root: Path) -> None:
    data = stack()
    data["databases"]["p" * 53] = {
        "image": "x:1",
        "port": 1,
        "env_var": "OTHER_HOST",
        "data_dir": "/data",
        "cluster": {"storage": "1Gi", "uid": 10000},
    }
    err = broken(rules.cluster_database_names_fit_a_statefulset, root, data)
    assert err.keypath == f"databases.{'p' * 53}"
    assert err.problem.startswith(
        f"{'p' * 53!r} is 53 characters: as a StatefulSet its pods would never start"
    )
    assert err.fix == "shorten the name to 52 characters or fewer"
    data["databases"]["p" * 52] = data["databases"].pop("p" * 53)
    rules.cluster_database_names_fit_a_statefulset(read(root, data))
