"""The task table's options (tasks/families/shared/catalog.py): edges bench/mutation.py found unguarded."""

from __future__ import annotations

import dataclasses

import pytest

from tasks.families.shared import catalog


def test_every_option_is_known_by_name() -> None:
    assert catalog.options() == {
        "fix": catalog.FIX,
        "keep": catalog.KEEP,
        "wipe": catalog.WIPE,
        "tail": catalog.TAIL,
        "service": catalog.SERVICE,
    }


def test_only_cloud_commands_that_change_something_are_mutating() -> None:
    mutating = {name for name, entry in catalog.TASKS.items() if entry.mutating}
    assert mutating == {"tf_apply", "push", "deploy", "rollback", "kubeconfig", "registry_login"}
    assert all(catalog.TASKS[name].scope is catalog.Scope.NAMED for name in mutating)


def test_params_take_the_option_default_or_the_given_word() -> None:
    assert catalog.params("render", {"wipe": "1"}) == []
    (wipe,) = catalog.params("compose_down", {})
    assert wipe == {
        "name": "wipe",
        "long": "wipe",
        "type": bool,
        "default": False,
        "help": "also delete the data volumes (default: False; also `wipe=...`)",
    }
    (given,) = catalog.params("compose_down", {"wipe": "Yes", "tail": "7"})
    assert given["default"] is True
    (tail,) = catalog.params("minikube_logs", {"tail": "7"})
    assert tail["default"] == 7 and tail["type"] is int


@pytest.mark.parametrize("word", ["1", "true", "YES", "On"])
def test_true_words(word: str) -> None:
    assert catalog.parse(catalog.WIPE, word) is True


@pytest.mark.parametrize("word", ["", "0", "False", "no", "OFF"])
def test_false_words(word: str) -> None:
    assert catalog.parse(catalog.WIPE, word) is False


def test_bad_words_say_what_is_accepted() -> None:
    with pytest.raises(ValueError, match=r"^use one of 1, true or 0, false$"):
        catalog.parse(catalog.WIPE, "maybe")
    with pytest.raises(ValueError, match=r"^use a whole number$"):
        catalog.parse(catalog.TAIL, "ten")


def test_int_and_str_options() -> None:
    assert catalog.parse(catalog.TAIL, "-3") == -3
    assert catalog.parse(catalog.SERVICE, "web") == "web"
    assert catalog.parse(catalog.SERVICE, "1") == "1"


def test_the_table_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalog.WIPE.default = True  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalog.TASKS["deploy"].mutating = False  # type: ignore[misc]


def test_without_the_option_nothing_is_rewritten_or_wiped() -> None:
    """`doit tf_fmt` checks and `doit compose_down` keeps the data: each must be asked for."""
    (fix,) = catalog.params("tf_fmt", {})
    assert fix["name"] == "fix" and fix["default"] is False
    (wipe,) = catalog.params("compose_down", {})
    assert wipe["default"] is False
