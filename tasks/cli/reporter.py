"""doit reporters: a console reporter that ends with a summary table, and a JSON reporter
that says "skipped" for skips.

A check that cannot run here says so with `console.skipped` (tf_validate without provider
schemas, checkov when it is not installed); the action's wrapper turns that into the task's
value `skipped` (tasks/families/shared/creators.py, `user_errors`), which doit carries to the
reporter from any thread or process. doit itself only knows success, so without this both
would be reported as plain successes. `install_json` makes doit's own `--reporter json` say it
too, in a project without doit.cfg to name this one.

The table (`Row`, `summary`) is independent of doit, so other front ends (a watch
loop) can print the same one.
"""

from __future__ import annotations

import io
import json
import sys
import time
from dataclasses import dataclass
from typing import Any, cast

from doit.exceptions import BaseFail, TaskError
from doit.reporter import ConsoleReporter, JsonReporter

from tasks.families.shared.creators import SKIPPED_VALUE
from tasks.output.term import Paint, use_colour

COLOURS = {"ran": "green", "up to date": "dim", "skipped": "yellow", "failed": "red", "not run": "yellow"}


@dataclass(frozen=True)
class Row:
    task: str
    result: str  # ran | up to date | skipped | failed | not run
    seconds: float | None = None
    reason: str = ""


def recorded_skip(task: Any) -> str | None:
    """Why part of an up-to-date task was skipped when it last ran (its `meta`, e.g.
    tf_validate without provider schemas): a skip stays reported, never read as a pass."""
    return (getattr(task, "meta", None) or {}).get("skipped")


def skip_reason(task: Any) -> str | None:
    """Why the task skipped its check (its value `skipped`), if it did."""
    reason = (getattr(task, "values", None) or {}).get(SKIPPED_VALUE)
    return str(reason) if reason else None


def summary(rows: list[Row], paint: Paint | None = None, *, show_uptodate: bool = True) -> str:
    """task | result | seconds, then one line of totals (up-to-date rows only counted
    when `show_uptodate` is False: after a long run they would bury what happened)."""
    colour = paint or Paint(False)
    heads = ("task", "result", "seconds")
    shown = [r for r in rows if show_uptodate or r.result != "up to date"]
    cells = [
        (
            r.task,
            r.result + (f" ({_short(r.reason)})" if r.reason else ""),
            "" if r.seconds is None else f"{r.seconds:.1f}",
        )
        for r in shown
    ]
    width = [max(len(c[i]) for c in [heads, *cells]) for i in range(3)]

    def line(c: tuple[str, str, str]) -> str:
        return f"{c[0].ljust(width[0])}  {c[1].ljust(width[1])}  {c[2].rjust(width[2])}".rstrip()

    out = [line(heads)] if shown else []
    out += [colour(line(c), COLOURS.get(r.result, "")) for r, c in zip(shown, cells, strict=True)]
    counts = {k: sum(1 for r in rows if r.result == k) for k in COLOURS}
    total = sum(r.seconds or 0.0 for r in rows)
    out.append(
        ", ".join(f"{n} {k}" for k, n in counts.items() if n or k in ("ran", "failed")) + f"; {total:.1f} s"
    )
    return "\n".join(out)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class SummaryReporter(ConsoleReporter):  # type: ignore[misc]
    """doit's console output, clean failures (message, no doit header), and a summary table."""

    desc = "console, with clean failures and a summary table (stackbuild)"

    def __init__(self, outstream: Any, options: dict[str, Any]) -> None:
        super().__init__(outstream, options)
        self.rows: dict[str, Row] = {}
        self.started: dict[str, float] = {}
        self.paint = Paint(use_colour(outstream))

    @staticmethod
    def _shown(task: Any) -> bool:
        return bool(task.actions) and not task.name.startswith("_")

    def _elapsed(self, task: Any) -> float | None:
        start = self.started.get(task.name)
        return None if start is None else time.monotonic() - start

    def execute_task(self, task: Any) -> None:
        self.started[task.name] = time.monotonic()
        super().execute_task(task)

    def add_success(self, task: Any) -> None:
        if self._shown(task):
            reason = skip_reason(task)
            self.rows[task.name] = Row(
                task.name, "skipped" if reason else "ran", self._elapsed(task), reason or ""
            )

    def skip_uptodate(self, task: Any) -> None:
        super().skip_uptodate(task)
        if self._shown(task):
            reason = recorded_skip(task)
            self.rows[task.name] = (
                Row(task.name, "skipped", reason=reason) if reason else Row(task.name, "up to date")
            )

    def add_failure(self, task: Any, fail: BaseFail) -> None:
        if self._shown(task):
            self.rows[task.name] = Row(task.name, "failed", self._elapsed(task))
        if not fail.report:
            return
        self.failures.append({"task": task, "exception": fail})
        if isinstance(fail, TaskError):
            self._write_failure({"task": task, "exception": fail})  # a bug: keep doit's traceback
            return
        # An expected failure (StackError through user_errors, a failed preflight): its
        # message is written for people; a hidden step's name would only distract.
        head = "" if task.name.startswith("_") else self.paint(f"FAILED {task.name}", "red") + "\n"
        self.write(head + fail.get_msg().rstrip() + "\n")

    def complete_run(self) -> None:
        super().complete_run()
        rows = list(self.rows.values())
        # One task needs no table; a run stopped by a preflight has no rows at all.
        if len(rows) > 1:
            self.write("\n" + summary(rows, self.paint, show_uptodate=False) + "\n")


def _json_add_success(self: Any, task: Any) -> None:
    reason = skip_reason(task)
    if reason is None:
        DOIT_JSON["add_success"](self, task)
        return
    self.t_results[task.name].set_result("skipped")
    self.__dict__.setdefault("reasons", {})[task.name] = reason


def _json_skip_uptodate(self: Any, task: Any) -> None:
    reason = recorded_skip(task)
    if reason is None:
        DOIT_JSON["skip_uptodate"](self, task)
        return
    self.t_results[task.name].set_result("skipped")
    self.__dict__.setdefault("reasons", {})[task.name] = reason


def _json_complete_run(self: Any) -> None:
    # doit's JsonReporter swapped both streams for StringIO buffers in __init__.
    log_out = cast(io.StringIO, sys.stdout).getvalue()
    sys.stdout = self._old_out
    log_err = cast(io.StringIO, sys.stderr).getvalue()
    sys.stderr = self._old_err
    if self.errors:
        log_err += "\n".join(self.errors)
    reasons: dict[str, str] = self.__dict__.get("reasons", {})
    tasks = []
    for name, result in self.t_results.items():
        data = result.to_dict()
        if name in reasons:
            data["reason"] = reasons[name]
        tasks.append(data)
    json.dump({"tasks": tasks, "out": log_out, "err": log_err}, self.outstream)


# doit's own methods, as imported (`install_json` replaces them on doit's class).
DOIT_JSON = {
    "add_success": JsonReporter.add_success,
    "skip_uptodate": JsonReporter.skip_uptodate,
    "complete_run": JsonReporter.complete_run,
}


class SkipAwareJsonReporter(JsonReporter):  # type: ignore[misc]
    """doit's JSON reporter, with result "skipped" (and "reason") for tasks that skipped."""

    desc = 'output in JSON format; skipped checks say "skipped" (stackbuild)'
    add_success = _json_add_success
    skip_uptodate = _json_skip_uptodate
    complete_run = _json_complete_run


def install_json() -> None:
    """doit's built-in `--reporter json` says "skipped" too (a project without doit.cfg, or
    pyproject's plugin table, gets doit's own class): its three methods, replaced once."""
    if JsonReporter.add_success is not _json_add_success:
        JsonReporter.add_success = _json_add_success
        JsonReporter.skip_uptodate = _json_skip_uptodate
        JsonReporter.complete_run = _json_complete_run
