"""The summary table, skip reasons and the console reporter (tasks/cli/reporter.py), called directly."""

from __future__ import annotations

import io
import json
import time
from types import SimpleNamespace

import pytest
from doit.exceptions import TaskError, TaskFailed
from doit.reporter import JsonReporter

from tasks.cli import reporter
from tasks.cli.reporter import Row


def test_summary_table_has_task_result_seconds_and_totals() -> None:
    text = reporter.summary(
        [
            Row("images:engine", "ran", 12.34),
            Row("render:k8s-base", "up to date"),
            Row("checkov", "skipped", 0.1, "checkov is not installed"),
            Row("compose_up_dbs", "failed", 3.0),
        ]
    )
    assert text.splitlines() == [
        "task             result                              seconds",
        "images:engine    ran                                    12.3",
        "render:k8s-base  up to date",
        "checkov          skipped (checkov is not installed)      0.1",
        "compose_up_dbs   failed                                  3.0",
        "1 ran, 1 up to date, 1 skipped, 1 failed; 15.4 s",
    ]


def test_skip_reason_is_the_tasks_skipped_value() -> None:
    assert reporter.skip_reason(SimpleNamespace(values={"skipped": "no mirror here"})) == "no mirror here"
    assert reporter.skip_reason(SimpleNamespace(values={"other": 1})) is None
    # What an action printed is no evidence: with `-P thread` it may be another task's line.
    printed = SimpleNamespace(
        values={}, actions=[SimpleNamespace(out="  SKIPPED: checkov is not installed\n")]
    )
    assert reporter.skip_reason(printed) is None


def test_up_to_date_rows_can_be_counted_only() -> None:
    text = reporter.summary([Row("a", "ran", 1.0), Row("b", "up to date")], show_uptodate=False)
    assert text.splitlines() == [
        "task  result  seconds",
        "a     ran         1.0",
        "1 ran, 1 up to date, 0 failed; 1.0 s",
    ]
    assert (
        reporter.summary([Row("b", "up to date"), Row("c", "up to date")], show_uptodate=False)
        == "0 ran, 2 up to date, 0 failed; 0.0 s"
    )


def test_a_long_reason_is_shortened_to_sixty_characters() -> None:
    exact, longer = "x" * 60, "y" * 61
    text = reporter.summary([Row("a", "skipped", 1.0, exact), Row("b", "skipped", 1.0, longer)])
    assert f"skipped ({exact})" in text
    assert f"skipped ({'y' * 57}...)" in text and "y" * 58 not in text


def _task(name: str, skipped: str = "", actions: int = 1) -> SimpleNamespace:
    return SimpleNamespace(
        name=name,
        actions=[SimpleNamespace(out="", err="") for _ in range(actions)],
        values={"skipped": skipped} if skipped else {},
        executed=False,
        title=lambda: name,
    )


def test_the_console_reporter_keeps_one_row_per_shown_task(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    console = reporter.SummaryReporter(out, {})
    clock = iter([10.0, 12.5, 20.0, 21.0, 30.0, 30.0])  # start, end of a; of b; hidden ones
    monkeypatch.setattr(time, "monotonic", lambda: next(clock))
    shown = (_task("a"), _task("b", "no schemas"))
    for task in (*shown, _task("_hidden"), _task("empty", actions=0)):
        console.execute_task(task)
        console.add_success(task)
    console.skip_uptodate(_task("c"))
    console.skip_uptodate(_task("_d"))
    assert console.rows == {
        "a": Row("a", "ran", 2.5),
        "b": Row("b", "skipped", 1.0, "no schemas"),
        "c": Row("c", "up to date"),
    }
    failed = _task("e")
    console.add_failure(failed, TaskFailed("it broke\n"))
    assert console.rows["e"] == Row("e", "failed", None)  # never started: no time
    assert out.getvalue().endswith("FAILED e\nit broke\n")
    console.add_failure(_task("_preflight:docker"), TaskFailed("no daemon"))
    assert out.getvalue().endswith("it broke\nno daemon\n")  # a hidden step: the message alone
    assert "_preflight:docker" not in console.rows and len(console.failures) == 2


def test_a_bug_keeps_doits_traceback_and_an_unreported_failure_is_silent() -> None:
    out = io.StringIO()
    console = reporter.SummaryReporter(out, {})
    error = TaskError("boom")
    console.add_failure(_task("a"), error)
    assert out.getvalue().startswith("TaskError - taskid:a\n") and "boom" in out.getvalue()
    quiet = TaskError("quiet")
    quiet.report = False
    console.add_failure(_task("b"), quiet)
    assert "quiet" not in out.getvalue() and len(console.failures) == 1


def test_the_table_needs_two_rows() -> None:
    out = io.StringIO()
    console = reporter.SummaryReporter(out, {})
    console.rows = {"a": Row("a", "ran", 1.0)}
    console.complete_run()
    assert "task" not in out.getvalue()
    console.rows["b"] = Row("b", "ran", 2.0)
    console.complete_run()
    assert out.getvalue().endswith("\n2 ran, 0 failed; 3.0 s\n") and "task  result" in out.getvalue()


def test_doits_own_json_reporter_is_made_to_say_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    # A project without doit.cfg gets doit's own class for `--reporter json`.
    monkeypatch.setattr(JsonReporter, "add_success", JsonReporter.add_success)
    monkeypatch.setattr(JsonReporter, "complete_run", JsonReporter.complete_run)
    reporter.install_json()
    reporter.install_json()  # once is enough; twice changes nothing
    out = io.StringIO()
    json_reporter = JsonReporter(out)
    try:
        for task in (_task("a"), _task("b", "no schemas")):
            json_reporter.get_status(task)
            json_reporter.execute_task(task)
            json_reporter.add_success(task)
    finally:
        json_reporter.complete_run()
    results = {t["name"]: (t["result"], t.get("reason")) for t in json.loads(out.getvalue())["tasks"]}
    assert results == {"a": ("success", None), "b": ("skipped", "no schemas")}
