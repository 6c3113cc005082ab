"""The merged files (tasks/config/merged.py): where an error is reported, and the views the
rules and the build share (placement, enabled services, build specs)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tasks.model import STACK
from testing.configs import LOCAL, read, refused, small_project, stack


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_project(tmp_path)


def test_an_error_is_reported_in_the_file_that_set_the_key(root: Path) -> None:
    err = refused(root, None, {**LOCAL, "services": {"web": {"replicas": 2}}})
    assert (err.file, err.keypath, err.line) == ("environments/test.yaml", "services.web.replicas", 6)
    # Set only in the stack: reported there, though an environment file is loaded.
    data = stack()
    data["services"]["web"]["replicas"] = 2
    err = refused(root, data, LOCAL)
    assert (err.file, err.keypath) == ("environments/stack.yaml", "services.web.replicas")


def test_a_key_no_file_set_is_reported_where_it_would_go(root: Path) -> None:
    merged = read(root, None, {**LOCAL, "services": {"web": {"replicas": 2}}})
    # Under a top-level key the environment file has: there.
    err = merged.error(("services", "web", "nothing"), "problem", "fix")
    assert (err.file, err.keypath, err.line, err.problem, err.fix) == (
        "environments/test.yaml",
        "services.web.nothing",
        5,
        "problem",
        "fix",
    )
    # A key the stack set: the stack, at its line.
    err = merged.error(("databases", "pg", "port"), "problem")
    assert (err.file, err.line, err.fix) == ("environments/stack.yaml", 40, None)
    # Below it, a key no file set: the last file, at the nearest key it has (here: the top).
    err = merged.error(("databases", "pg", "nothing"), "problem")
    assert (err.file, err.keypath, err.line) == ("environments/test.yaml", "databases.pg.nothing", 1)
    assert read(root).error(("nowhere",), "problem").file == "environments/stack.yaml"


def test_the_merged_files_cannot_be_changed_by_a_rule(root: Path) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        read(root).env = "other"  # type: ignore[misc]


def test_placement_defaults_to_the_host_for_the_stack_alone_only(root: Path) -> None:
    alone = read(root)
    assert alone.env == STACK and alone.alone and alone.placement("pg") == "compose"
    env = read(root, None, {"runtime": "compose"})
    assert not env.alone and env.placement("pg") == ""
    assert read(root, None, {**LOCAL, "placement": {"pg": "disabled"}}).placement("pg") == "disabled"


def test_enabled_services_keep_file_order(root: Path) -> None:
    assert read(root).enabled() == ["web", "migrate"]
    assert read(root, None, {**LOCAL, "disabled_services": ["web"]}).enabled() == ["migrate"]


def test_a_service_builds_from_its_own_spec_else_the_default(root: Path) -> None:
    data = stack()
    data["services"]["web"]["build"] = {"context": "web"}
    merged = read(root, data)
    assert merged.build_of("web") == (("services", "web", "build"), {"context": "web"})
    assert merged.build_of("migrate") == (("images", "service_build"), {"context": "app"})
    del data["images"]["service_build"]
    assert read(root, data).build_of("migrate") is None


def test_a_value_the_stack_set_is_reported_in_the_stack_even_under_an_environment_section(root: Path) -> None:
    merged = read(root, None, {**LOCAL, "databases": {"pg": {"image": "postgres:16"}}})
    err = merged.error(("databases", "pg", "port"), "problem")
    assert (err.file, err.line) == ("environments/stack.yaml", 40)
    assert merged.error(("databases", "pg", "image"), "problem").file == "environments/test.yaml"


def test_a_service_is_a_deployment_unless_it_says_job(root: Path) -> None:
    merged = read(root, None, LOCAL)
    assert (merged.kind("web"), merged.kind("migrate")) == ("deployment", "job")


def test_jobs_declaring_a_key_are_the_enabled_jobs_that_set_it_to_something(root: Path) -> None:
    data = stack()
    data["services"]["migrate"]["sync"] = [{"source": "app", "target": "/x"}]
    data["services"]["web"]["sync"] = [{"source": "app", "target": "/x"}]  # a deployment: not listed
    assert read(root, data, LOCAL).jobs_declaring("sync") == ["migrate"]
    data["services"]["migrate"]["sync"] = []  # an empty list sets nothing
    assert read(root, data, LOCAL).jobs_declaring("sync") == []
    data["services"]["migrate"]["sync"] = [{"source": "app", "target": "/x"}]
    assert read(root, data, {**LOCAL, "disabled_services": ["migrate"]}).jobs_declaring("sync") == []
