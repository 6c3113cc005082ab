"""How `doit info` names actions and checks (tasks/cli/info_cmd.py): `describe` called directly,
and the command run by doit on a few tasks of its own: names, never memory addresses."""

from __future__ import annotations

from functools import partial, wraps
from pathlib import Path

import pytest
from doit.action import PythonAction
from doit.cmd_base import ModuleTaskLoader
from doit.doit_cmd import DoitMain

from tasks.cli.info_cmd import describe, describe_action


class _Named:
    def __init__(self, name: str | None = None, env: str | None = None, label: str | None = None) -> None:
        self.name = name
        self.env = env
        self.label = label


def _step(*args: object, **kwargs: object) -> None:
    """A module-level action."""


def test_each_argument_is_named_without_an_address() -> None:
    def local() -> None:
        pass

    assert describe(_step, ("x", 3, True)) == "_step('x', 3, True)"
    assert describe(_step, (["a", 1], ("a", "b"))) == "_step(['a', 1], ['a', 'b'])"
    assert describe(_step, ([1, 2, 3, 4],)) == "_step([1, 2, 3, 4])"
    assert describe(_step, ([1, 2, 3, 4, 5], [object()])) == "_step(list, list)"  # long or odd: named
    assert describe(_step, (partial(_step, "a"),)) == "_step(_step('a'))"
    assert describe(_step, (local,)) == "_step(test_each_argument_is_named_without_an_address.local)"
    assert describe(_step, (_Named(name="api"), _Named(env="dev"))) == "_step(_Named(api), _Named(dev))"
    assert describe(_step, (_Named(), None)) == "_step(_Named, NoneType)"
    # A label tells apart two values of one name (the same image for another platform).
    assert describe(_step, (_Named(name="api", label="api@arm64"),)) == "_step(_Named(api@arm64))"


def test_partials_and_wrappers_are_unwrapped_in_order() -> None:
    @wraps(_step)
    def wrapper(*args: object, **kwargs: object) -> None:
        pass

    inner = partial(_step, 1, key="inner")
    outer = partial(inner, 2, other="x")
    assert describe(outer, (3,), {"key": "call"}) == "_step(1, 2, 3, key='call', other='x')"
    assert describe(wrapper, ("a",)) == "_step('a')"
    assert describe(partial(wrapper, "b")) == "_step('b')"
    assert describe_action(PythonAction(_step, ["a"], {"n": 1})) == "_step('a', n=1)"
    assert describe_action("echo hi") == "echo hi"


def _stale(*args: object) -> bool:
    """An uptodate check that always says the task must run."""
    return False


def _info(tmp_path: Path, task: str) -> int:
    """`doit info <task>` with this command plugged in, as pyproject.toml plugs it in."""
    tasks = {
        "task_stale": lambda: {"actions": [(_step, ["x"]), "echo hi"], "uptodate": [(_stale, ["y"])]},
        "task_fresh": lambda: {"actions": None, "uptodate": [True]},
        "task_plain": lambda: {"actions": [(_step, [], {"n": 1})]},
    }
    main = DoitMain(
        ModuleTaskLoader(tasks),
        config_filenames=(),
        extra_config={
            "COMMAND": {"info": "tasks.cli.info_cmd:Info"},
            "GLOBAL": {"dep_file": str(tmp_path / "doit.db")},
        },
    )
    code: int = main.run(["info", task])
    return code


def test_info_lists_the_actions_and_names_the_check_that_says_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _info(tmp_path, "stale") == 1
    out = capsys.readouterr().out
    assert "\nactions    :\n - _step('x')\n - Cmd: echo hi\n" in out
    assert "\nuptodate   :\n - _stale('y')\n" in out
    assert " * The following uptodate checks say it must run:\n    - _stale('y')" in out
    assert " at 0x" not in out


def test_info_of_a_task_without_actions_or_checks_leaves_their_sections_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _info(tmp_path, "fresh") == 0
    out = capsys.readouterr().out
    assert "status     : up-to-date" in out
    assert "actions    :" not in out and "uptodate   :\n - True\n" in out
    assert _info(tmp_path, "plain") == 1
    out = capsys.readouterr().out
    assert "\nactions    :\n - _step(n=1)\n" in out and "uptodate   :" not in out
    assert " * The task has no dependencies." in out and "uptodate checks" not in out


def test_info_of_an_unknown_task_is_one_line_that_names_it_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`doit info render:nosuch`: the family exists (the command line lets it through), the task not."""
    assert _info(tmp_path, "stale:nosuch") == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err and '"stale:nosuch"' in err
