"""`doit info <task>` that names what a task runs and checks.

doit's own `info` leaves actions out and prints uptodate checks by repr (a lambda's
memory address). This command adds an `actions` and an `uptodate` section and
names each callable by its function name and its simple arguments, through
decorators (`user_errors`, `_check`) and functools.partial. Registered as a doit
command plugin in pyproject.toml (`[tool.doit.plugins.command]`).
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from doit.action import PythonAction
from doit.cmd_info import Info as DoitInfo
from doit.exceptions import InvalidCommand

SIMPLE = (str, int, float, bool)


def _arg(value: Any) -> str:
    if isinstance(value, SIMPLE):
        return repr(value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, SIMPLE) for v in value) and len(value) <= 4:
        return repr(list(value))
    if isinstance(value, functools.partial):
        return describe(value)
    if callable(value):
        return str(getattr(value, "__qualname__", type(value).__name__)).replace(".<locals>", "")
    # `label` first: what tells apart two values of one name (a foreign image: `engine@arm64`).
    name = getattr(value, "label", None) or getattr(value, "name", None) or getattr(value, "env", None)
    return f"{type(value).__name__}({name})" if isinstance(name, str) else type(value).__name__


def describe(func: Any, args: tuple[Any, ...] | list[Any] = (), kwargs: dict[str, Any] | None = None) -> str:
    """`build_image(Image(api), 'docker/Dockerfile', ...)`: a name, never an address."""
    while True:
        if isinstance(func, functools.partial):
            args = [*func.args, *args]
            kwargs = {**func.keywords, **(kwargs or {})}
            func = func.func
        elif hasattr(func, "__wrapped__"):
            func = func.__wrapped__
        else:
            break
    name = getattr(func, "__qualname__", None) or type(func).__name__
    name = name.replace(".<locals>", "")
    parts = [_arg(a) for a in args] + [f"{k}={_arg(v)}" for k, v in (kwargs or {}).items()]
    return f"{name}({', '.join(parts)})"


def describe_action(action: Any) -> str:
    if isinstance(action, PythonAction):
        return describe(action.py_callable, action.args, action.kwargs)
    return str(action)


class Info(DoitInfo):  # type: ignore[misc]
    doc_purpose = "show info about a task: its actions, checks and why it would run"

    # doit passes every option by name (it reads this signature), so hide_status has no default.
    def _execute(self, pos_args: list[str], hide_status: bool) -> int:
        # doit's own info refuses anything but one task, so here there is exactly one; an unknown
        # subtask (`render:nosuch`: the command line knows only families) would be its KeyError.
        tasks = {t.name: t for t in self.task_list}
        if len(pos_args) == 1 and pos_args[0] not in tasks:
            raise InvalidCommand(not_found=pos_args[0])
        code: int = super()._execute(pos_args, hide_status=hide_status)
        task = tasks[pos_args[0]]
        if task.actions:
            self.outstream.write("\nactions    :\n")
            for action in task.actions:
                self.outstream.write(f" - {describe_action(action)}\n")
        checks = [describe(u, a, k) if callable(u) else repr(u) for u, a, k in task.uptodate]
        if checks:
            self.outstream.write("\nuptodate   :\n")
            for text in checks:
                self.outstream.write(f" - {text}\n")
        return code

    @staticmethod
    def get_reasons(reasons: dict[str, Any]) -> str:
        # Same sentences as doit, with the uptodate checks named instead of repr'd.
        named = copy.copy(reasons)  # a defaultdict: keep its defaults
        false = named.get("uptodate_false") or []
        named["uptodate_false"] = []
        text: str = DoitInfo.get_reasons(named)
        if not false:
            return text
        lines = [" * The following uptodate checks say it must run:"]
        lines += [f"    - {describe(u, a, k) if callable(u) else repr(u)}" for u, a, k in false]
        return "\n".join([*lines, text] if text else lines)
