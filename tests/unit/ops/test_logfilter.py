"""tasks/ops/logfilter.py: which printed log lines `level=` and `id=` keep, JSON and plain, with
Compose's and kubectl's prefixes, and the one-sentence refusals of bad option values."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tasks.errors import StackError
from tasks.ops import logfilter as lf

TS = "2026-12-07T11:00:00.123456789Z"


def compose(source: str, record: dict[str, object] | str) -> str:
    text = record if isinstance(record, str) else json.dumps(record)
    return f"{source}-1  | {TS} {text}"


def kubectl(pod: str, record: dict[str, object] | str) -> str:
    text = record if isinstance(record, str) else json.dumps(record)
    return f"[pod/{pod}-5d9c/{pod}] {text}"


def test_no_filter_keeps_the_text_exactly() -> None:
    text = "a-1  | one\nwhatever\n"
    assert lf.apply(text, lf.LogFilter()) == text


@pytest.mark.parametrize("make", [compose, kubectl])
def test_json_lines_are_kept_by_their_correlation_id(make: Callable[[str, dict[str, object]], str]) -> None:
    mine = make("api", {"level": "info", "message": "accepted", "correlation_id": "c-1"})
    theirs = make("api", {"level": "info", "message": "c-1 mentioned", "correlation_id": "c-2"})
    traced = make("worker", {"severity": "INFO", "message": "done", "traceId": "c-1"})
    assert lf.keep([mine, theirs, traced], lf.LogFilter(id="c-1")) == [mine, traced]


def test_a_json_line_without_an_id_key_and_a_plain_line_match_by_substring() -> None:
    lines = [
        compose("api", {"level": "info", "message": "handling c-1"}),
        compose("db", "2026-12-07 11:00:00,1 INFO request c-1 stored"),
        compose("db", "INFO request c-2 stored"),
    ]
    assert lf.keep(lines, lf.LogFilter(id="c-1")) == lines[:2]


def test_a_bare_id_key_is_not_a_correlation_id() -> None:
    line = compose("api", {"level": "info", "id": "c-1", "correlation_id": "c-9"})
    assert lf.keep([line], lf.LogFilter(id="c-1")) == []


def test_level_keeps_that_level_and_above_from_json_keys_and_plain_words() -> None:
    lines = [
        compose("a", {"level": "debug", "message": "d"}),
        compose("a", {"levelname": "WARNING", "message": "w"}),
        compose("a", {"lvl": "error", "message": "e"}),
        compose("b", "2026-12-07 11:00:00.1+00:00 [info] <0.1.0> started"),
        compose("b", "ERROR: disk full"),
        compose("b", 'msg="slow" level=warn'),
        kubectl("c", "FATAL out of memory"),
        compose("d", "WARNING:root:retrying"),
        compose("e", "1:M 07 Dec 2026 11:00:00.123 # Warning: no config file"),
    ]
    assert lf.keep(lines, lf.LogFilter(level=lf.level_option("warn"))) == [lines[1], lines[2], *lines[4:8]]
    assert lf.keep(lines, lf.LogFilter(level=lf.level_option("error"))) == [lines[2], lines[4], lines[6]]
    assert lf.keep(lines, lf.LogFilter(level=lf.level_option("debug"))) == lines


@pytest.mark.parametrize(
    "message",
    [
        "[2026-12-07 11:00:00] ERROR the queue is gone",
        "2026-12-07 11:00:00,123 - srvthreds.engine - ERROR - the queue is gone",
        "[2026-12-07 11:00:00] [ERROR] the queue is gone",
    ],
)
def test_a_level_in_capitals_after_another_kind_of_prefix_is_read(message: str) -> None:
    """A bracketed timestamp or Python's `asctime - logger - LEVEL -` before the level: the
    error was read as no level (the info line before it) and `level=error` hid it."""
    calm = compose("api", "INFO listening")
    error = f"api-1  | {message}"
    assert lf.keep([calm, error], lf.LogFilter(level=lf.level_option("error"))) == [error]


def test_a_level_word_in_lower_case_or_late_in_a_plain_line_is_prose() -> None:
    calm = compose("api", "INFO listening")
    prose = [compose("api", "- the user asked for info"), compose("api", "- asked us about the ERROR page")]
    assert lf.keep([calm, *prose], lf.LogFilter(level=lf.level_option("warn"))) == []


def test_a_line_without_a_level_continues_the_one_before_it_from_the_same_source() -> None:
    lines = [
        compose("a", "ERROR handler failed"),
        compose("b", "INFO fine"),
        compose("a", "Traceback (most recent call last):"),
        compose("b", "  still fine"),
        compose("c", "no level at all"),  # nothing before it: counts as info
    ]
    assert lf.keep(lines, lf.LogFilter(level=lf.level_option("error"))) == [lines[0], lines[2]]
    assert lf.keep(lines, lf.LogFilter(level=lf.level_option("info"))) == lines


def test_level_and_id_together_must_both_hold() -> None:
    lines = [
        compose("a", {"level": "error", "message": "x", "correlation_id": "c-1"}),
        compose("a", {"level": "info", "message": "y", "correlation_id": "c-1"}),
        compose("a", {"level": "error", "message": "z", "correlation_id": "c-2"}),
    ]
    assert lf.keep(lines, lf.LogFilter(level=lf.level_option("warn"), id="c-1")) == [lines[0]]


def test_apply_ends_every_kept_line_and_returns_nothing_when_none_match() -> None:
    text = compose("a", "INFO one") + "\n" + compose("a", "ERROR two")
    assert lf.apply(text, lf.LogFilter(level=lf.level_option("error"))) == compose("a", "ERROR two") + "\n"
    assert lf.apply(text, lf.LogFilter(id="absent")) == ""


def test_a_brace_that_is_not_json_is_read_as_plain() -> None:
    line = compose("a", "WARN {not json c-1")
    assert lf.parse(line) == lf.Line("a-1", lf.RANKS["warn"], None, line)


@pytest.mark.parametrize("value", ["warning", "WARN", "warn"])
def test_warn_is_spelt_in_several_ways(value: str) -> None:
    assert lf.level_option(value) == lf.RANKS["warn"]


def test_no_level_asks_for_none() -> None:
    assert lf.level_option("") is None


def test_an_unknown_level_is_one_sentence_with_the_choices() -> None:
    with pytest.raises(StackError) as info:
        lf.level_option("verbose")
    assert str(info.value) == (
        "level=verbose is not a log level: use one of debug, info, warn, error "
        "(each shows its level and the ones above it)"
    )


def test_an_unknown_service_is_one_sentence_with_the_names() -> None:
    assert lf.service_option("api", ["db", "api"], "environment x") == "api"
    assert lf.service_option("", ["db"], "environment x") == ""
    with pytest.raises(StackError) as info:
        lf.service_option("apx", ["db", "api"], "environment x")
    assert str(info.value) == "service=apx names nothing that logs in environment x: use one of api, db"
