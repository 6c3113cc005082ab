"""A project's aliases (tasks/cli/aliases.py): checked against the tasks and doit's commands,
refused at their key in environments/stack.yaml, and translated to the task they name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.cli import aliases
from tasks.config import load as config
from tasks.errors import ConfigError, StackError
from testing.configs import small_project, stack, write

TASKS = ("compose_up", "compose_jobs", "render")
COMMANDS = ("run", "list", "help", "info")


def _checked(root: Path, declared: dict[str, str]) -> dict[str, str]:
    data = stack()
    data["aliases"] = declared
    write(root, "stack.yaml", data)
    return aliases.checked(config.load_stack(root), root, tasks=TASKS, commands=COMMANDS)


def _refused(root: Path, declared: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        _checked(root, declared)
    return info.value


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_project(tmp_path)


def test_aliases_that_name_tasks_are_the_projects(root: Path) -> None:
    assert _checked(root, {"bootstrap": "compose_jobs", "up": "compose_up"}) == {
        "bootstrap": "compose_jobs",
        "up": "compose_up",
    }


def test_an_alias_that_shadows_a_task_is_refused_at_its_key(root: Path) -> None:
    err = _refused(root, {"up": "compose_up", "render": "compose_up"})
    assert (err.file, err.keypath, err.problem, err.fix) == (
        "environments/stack.yaml",
        "aliases.render",
        "alias render would hide the task render",
        "rename the alias: `render` always means the task",
    )
    assert err.line is not None and err.line > 1


def test_an_alias_that_shadows_a_doit_command_is_refused(root: Path) -> None:
    err = _refused(root, {"list": "compose_up"})
    assert (err.keypath, err.problem) == ("aliases.list", "alias list would hide the doit command list")


def test_an_alias_of_no_task_says_which_task_was_meant(root: Path) -> None:
    err = _refused(root, {"bootstrap": "compose_jbos"})
    assert (err.keypath, err.problem, err.fix) == (
        "aliases.bootstrap",
        "alias bootstrap names no task ('compose_jbos')",
        "did you mean 'compose_jobs'? `doit list` shows every task",
    )


def test_a_broken_stack_file_has_no_aliases(root: Path) -> None:
    assert aliases.checked(StackError("broken"), root, tasks=TASKS, commands=COMMANDS) == {}


@pytest.mark.parametrize(
    ("word", "task"),
    [("bootstrap", "compose_jobs"), ("compose_up", "compose_up"), ("deploy_old:dev", "deploy:dev")],
)
def test_a_word_that_is_an_alias_means_its_task(word: str, task: str) -> None:
    assert aliases.target(word, {"bootstrap": "compose_jobs", "deploy_old": "deploy"}) == task
