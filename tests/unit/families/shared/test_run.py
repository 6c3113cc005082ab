"""The resolved run (tasks/families/shared/run.py): what a task creator may know."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks import families
from tasks.cli.resolve import resolve
from tasks.errors import StackError
from tasks.families.shared import registry
from tasks.families.shared.run import Run
from tasks.model import STACK
from tasks.store import state
from testing.environments import break_environment, copy_environments


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    families.load()
    return copy_environments(tmp_path_factory.mktemp("run"))


def plain(root: Path, *, env: str = "local", given: dict[str, str] | None = None) -> Run:
    return Run(root, "run", [], given or {}, env, ["dev", "local", "minikube", "prod", "staging", "test"])


def test_a_family_default_counts_unless_the_environment_was_given_or_implied(root: Path) -> None:
    run = plain(root, env="test")
    assert (run.env_for("minikube_up"), run.env_for("compose_up")) == ("minikube", "local")
    given = plain(root, env="test", given={"env": "test"})
    assert given.env_for("minikube_up") == "test"
    implied = Run(root, "run", [], {}, "staging", [], inferred=True)
    assert implied.env_for("compose_up") == "staging"
    with pytest.raises(KeyError):
        run.env_for("nonsense")


def test_each_configuration_is_loaded_once_and_an_error_is_kept(tmp_path: Path) -> None:
    root = copy_environments(tmp_path)
    break_environment(root, "test")
    run = plain(root)
    assert run.config("dev") is run.config("dev") and run.config("dev").env == "dev"
    assert run.config(None).env == STACK  # the stack alone
    error = run.try_config("test")
    assert isinstance(error, StackError) and run.try_config("test") is error
    with pytest.raises(StackError, match="environments/test.yaml"):
        run.config("test")


def test_cloud_envs_are_those_with_a_cloud_block_and_the_broken_ones(tmp_path: Path) -> None:
    root = copy_environments(tmp_path)
    assert [env for env, _ in plain(root).cloud_envs()] == ["dev", "prod", "staging"]
    break_environment(root, "test")
    listed = dict(plain(root).cloud_envs())
    assert sorted(listed) == ["dev", "prod", "staging", "test"]
    assert isinstance(listed["test"], StackError)


def test_options_are_params_with_this_runs_words_as_defaults(root: Path) -> None:
    run = plain(root, given={"tail": "7"})
    assert run.params("minikube_logs")[0]["default"] == 7
    assert run.params("compose_up") == []
    assert run.option(registry.options()["tail"]) == 7
    assert plain(root).option(registry.options()["tail"]) == 50


def test_only_a_public_task_gets_params(root: Path) -> None:
    run = plain(root, given={"wipe": "1"})
    down = run.with_params({"basename": "compose_down", "actions": None})
    assert [p["default"] for p in down["params"]] == [True]
    assert run.with_params({"basename": "compose_up"}) == {"basename": "compose_up", "params": []}
    assert run.with_params({"basename": "_compose_env"}) == {"basename": "_compose_env"}
    assert run.with_params({"name": "dev"}) == {"name": "dev"}


def test_the_doit_config_keeps_one_database_per_environment(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    resolved = resolve(["compose_up", "env=dev"], root)
    cfg = resolved.doit_config()
    assert resolved.doit_config() == cfg  # the second run in one process finds the folder made
    assert (
        cfg["dep_file"] == str(state.dep_file("dev")) and (tmp_path / state.dep_file("dev")).parent.is_dir()
    )
    assert cfg["default_tasks"] == ["render", "validate"] and cfg["backend"] == "json"
    assert (cfg["check_file_uptodate"], cfg["verbosity"]) == ("md5", 2)


def test_the_status_page_keeps_its_own_database_so_its_buttons_runs_keep_theirs(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve(["ui", "env=dev"], root).dep_file() == state.dep_file("dev.serving")
    assert resolve(["ui", "compose_up", "env=dev"], root).dep_file() == state.dep_file("dev")


def test_a_bound_creator_gets_the_run(root: Path) -> None:
    run = plain(root)

    def task_demo(given: Run) -> str:
        """Demo."""
        return given.env

    bound = run.bind(task_demo)
    assert bound() == "local" and bound.__name__ == "task_demo" and bound.__doc__ == "Demo."
