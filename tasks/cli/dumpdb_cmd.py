"""`doit dumpdb [env=<env>]`: what doit remembers of each task, read from this project's databases.

doit's own `dumpdb` opens `.doit.db` with `dbm`, but this project keeps one JSON database per
environment (`.build/state/<env>.json`, tasks/store/state.py), so doit's command crashed with a
`dbm.error` traceback. doit runs its commands before it loads dodo.py, so the only way in is a
command of the same name: registered as a doit command plugin (pyproject.toml
`[tool.doit.plugins.command]`, and an entry point for every project that installs the tool),
which replaces doit's. It only reads.
"""

from __future__ import annotations

import json
import pprint
import sys
from pathlib import Path
from typing import Any

from doit import get_var
from doit.cmd_base import Command
from doit.exceptions import InvalidCommand

from tasks.model import STACK
from tasks.store import state

NAME = "dumpdb"
USAGE = "doit dumpdb [env=<env>]"


def databases(name: str | None) -> list[Path]:
    """The databases to print: the named environment's, or every one this checkout has."""
    if name is not None:
        return [state.dep_file(name)]
    folder = state.dep_file(STACK).parent
    # Only doit's databases: `<env>.json` next to the tool's other records (code-closure.json, ...),
    # whose names are not environments; `<env>.serving.json` is a page's copy of one.
    envs = {p.stem for p in Path("environments").glob("*.yaml")} | {STACK}
    return sorted(p for p in folder.glob("*.json") if p.stem in envs)


def entries(path: Path) -> dict[str, Any]:
    """One database, as doit keeps it: {task: {key: value}}; an unreadable one is one sentence."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidCommand(f"{path} does not exist: no task has run with this environment yet") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCommand(
            f"{path} cannot be read ({exc}); the next run of a task moves it aside and starts a new one"
        ) from None
    if not isinstance(data, dict):
        raise InvalidCommand(f"{path} is not a doit database (a JSON object of tasks)")
    return data


def env_name(pos_args: list[str]) -> str | None:
    """The environment `env=<env>` names (doit takes `name=value` words as variables before a
    command sees its arguments); any other word is refused with the usage."""
    if pos_args:
        raise InvalidCommand(f"`{pos_args[0]}`: dumpdb takes only env=<env> (usage: {USAGE})")
    name = get_var("env")
    if name is not None and (not name or "/" in name):
        raise InvalidCommand(f"env={name}: not an environment name (usage: {USAGE})")
    return name


def project_root_here() -> None:
    """The databases are relative to the project's root, as every doit command here: from another
    folder (a subfolder of the project) there are none to read, which is no "nothing ran yet"."""
    if not Path("environments").is_dir():
        raise InvalidCommand(
            f"{Path.cwd()} is not a project's root (it has no environments/ folder), so it has no "
            f".build/state/ to read: run `{USAGE}` from the project's root"
        )


def dump(paths: list[Path]) -> str:
    """doit's layout (`task -> {values}`), under a line naming each database."""
    lines = []
    for path in paths:
        lines.append(f"# {path}")
        for task, values in sorted(entries(path).items()):
            lines.append(f"{task} -> {pprint.pformat(values, indent=4, width=100)}")
    return "\n".join(lines)


class DumpDB(Command):  # type: ignore[misc]
    doc_purpose = "print what doit remembers of each task (.build/state/<env>.json)"
    doc_usage = "[env=<env>]"
    doc_description = "With no env=, every environment's database this checkout has."
    cmd_options = ()

    def execute(self, opt_values: dict[str, Any], pos_args: list[str]) -> int:
        name = env_name(pos_args)
        project_root_here()
        paths = databases(name)
        # stdout, like doit's own dumpdb: it is the command's output, not a step's progress line.
        text = dump(paths) if paths else "no dependency database yet: no task has run here"
        sys.stdout.write(text + "\n")
        return 0
