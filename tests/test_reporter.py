"""The summary table, skipped checks in the console and JSON reporters."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from types import SimpleNamespace

from tasks import reporter
from tasks.reporter import Row
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
    from tasks import term

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
