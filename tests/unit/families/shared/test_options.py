"""A task's `key=value` options (tasks/families/shared/options.py): parsing and doit params."""

from __future__ import annotations

import dataclasses

import pytest

from tasks.families.shared import options
from tasks.families.shared.options import Option

WIPE = Option("wipe", bool, False, "also delete the data volumes")
TAIL = Option("tail", int, 50, "how many log lines per pod")
SERVICE = Option("service", str, "", "the service to forward")


@pytest.mark.parametrize("word", ["1", "true", "YES", "On"])
def test_true_words(word: str) -> None:
    assert options.parse(WIPE, word) is True


@pytest.mark.parametrize("word", ["", "0", "False", "no", "OFF"])
def test_false_words(word: str) -> None:
    assert options.parse(WIPE, word) is False


def test_bad_words_say_what_is_accepted() -> None:
    with pytest.raises(ValueError, match=r"^use one of 1, true or 0, false$"):
        options.parse(WIPE, "maybe")
    with pytest.raises(ValueError, match=r"^use a whole number$"):
        options.parse(TAIL, "ten")


def test_int_and_str_options() -> None:
    assert options.parse(TAIL, "-3") == -3
    assert options.parse(SERVICE, "web") == "web"
    assert options.parse(SERVICE, "1") == "1"


def test_a_value_is_the_given_word_or_the_default() -> None:
    assert options.value(TAIL, {}) == 50
    assert options.value(TAIL, {"tail": "7", "wipe": "1"}) == 7


def test_params_take_the_option_default_or_the_given_word() -> None:
    assert options.params([], {"wipe": "1"}) == []
    assert options.params([WIPE], {}) == [
        {
            "name": "wipe",
            "long": "wipe",
            "type": bool,
            "default": False,  # without the option nothing is wiped
            "help": "also delete the data volumes (default: False; also `wipe=...`)",
        }
    ]
    (given,) = options.params([WIPE], {"wipe": "Yes", "tail": "7"})
    assert given["default"] is True
    tail, wipe = options.params([TAIL, WIPE], {"tail": "7"})
    assert (tail["default"], tail["type"], wipe["default"]) == (7, int, False)


def test_an_option_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        WIPE.default = True  # type: ignore[misc]
