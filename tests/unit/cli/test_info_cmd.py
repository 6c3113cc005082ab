"""How `doit info` names actions and checks (tasks/cli/info_cmd.py), called directly: names,
never memory addresses."""

from __future__ import annotations

from functools import partial, wraps

from doit.action import PythonAction

from tasks.cli.info_cmd import describe, describe_action


class _Named:
    def __init__(self, name: str | None = None, env: str | None = None) -> None:
        self.name = name
        self.env = env


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
