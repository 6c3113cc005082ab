"""The summary table, skipped checks in the console and JSON reporters."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path
from types import SimpleNamespace

from tasks.cli import reporter
from tasks.cli.reporter import Row
from testing.project import run_doit


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


def test_skip_reason_is_read_from_the_skipped_line() -> None:
    task = SimpleNamespace(
        actions=[SimpleNamespace(out="  ok\n  SKIPPED: no mirror here\n"), SimpleNamespace(out=None)]
    )
    assert reporter.skip_reason(task) == "no mirror here"
    assert reporter.skip_reason(SimpleNamespace(actions=[SimpleNamespace(out="all good\n")])) is None


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


def test_console_run_ends_with_the_summary(project: Path) -> None:
    first = run_doit(project, "render:compose-dev", "render:compose-local")
    assert [line.split()[:2] for line in first.out.splitlines()[-4:]] == [
        ["task", "result"],
        ["render:compose-dev", "ran"],
        ["render:compose-local", "ran"],
        ["2", "ran,"],
    ]
    assert first.out.splitlines()[-1].startswith("2 ran, 0 failed; ")
    assert run_doit(project, "render").code == 0
    again = run_doit(project, "render")
    assert re.fullmatch(r"0 ran, \d+ up to date, 0 failed; 0\.0 s", again.out.splitlines()[-1])


def test_json_reporter_says_skipped_for_a_skipped_check(project: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("STACKBUILD_TF_PLUGIN_DIR", raising=False)
    result = run_doit(project, "--reporter", "json", "tf_validate")
    assert result.code == 0, result.out
    data = json.loads(result.out[result.out.index("{") :])
    task = next(t for t in data["tasks"] if t["name"] == "tf_validate")
    assert task["result"] == "skipped"
    assert task["reason"].startswith("provider schema validation")


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colours_only_on_a_terminal_and_never_with_no_color(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tasks.output import term

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert term.painter(Tty())("ok", "green") == "\x1b[32mok\x1b[0m"
    assert term.painter(io.StringIO())("ok", "green") == "ok"
    monkeypatch.setenv("NO_COLOR", "")
    assert term.painter(Tty())("ok", "green") == "ok"


def test_failed_task_shows_its_message_without_doits_header(project: Path) -> None:
    template = project / "templates/compose/env.example.j2"
    template.write_text(template.read_text() + "{{ nosuch }}\n")
    result = run_doit(project, "render:compose-local")
    assert result.code == 1
    assert "TaskFailed - taskid" not in result.out
    assert "FAILED render:compose-local\ntemplates/compose/env.example.j2, line" in result.out


# --------------------------------------------------------------------------- the reporter, directly


def test_a_long_reason_is_shortened_to_sixty_characters() -> None:
    assert reporter._short("x" * 60) == "x" * 60
    assert reporter._short("x" * 61) == "x" * 57 + "..."


def _task(name: str, out: str = "", actions: int = 1) -> SimpleNamespace:
    return SimpleNamespace(
        name=name,
        actions=[SimpleNamespace(out=out, err="") for _ in range(actions)],
        executed=False,
        title=lambda: name,
    )


def test_the_console_reporter_keeps_one_row_per_shown_task(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from doit.exceptions import TaskFailed

    out = io.StringIO()
    console = reporter.SummaryReporter(out, {})
    clock = iter([10.0, 12.5, 20.0, 21.0, 30.0, 30.0])  # start, end of a; of b; hidden ones
    monkeypatch.setattr(time, "monotonic", lambda: next(clock))
    shown = (_task("a"), _task("b", "SKIPPED: no schemas\n"))
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
    from doit.exceptions import TaskError

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
