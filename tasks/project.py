"""Everything a project's dodo.py needs, in one call.

The tool's own repository and any other stack (examples/guestbook, a team's own
repository) share one list of tasks: a project's dodo.py is

    from tasks.project import dodo
    globals().update(dodo())

and doit finds every `task_*` and DOIT_CONFIG in its namespace. The project is the
folder doit runs in (the one holding environments/); it gets its own k8s/, compose/,
terraform/ and .build/ there.
"""

from __future__ import annotations

from tasks.cli import exits

exits.install()  # before the task modules load: Ctrl-C is never a traceback

import sys
from pathlib import Path
from typing import Any

from tasks import families
from tasks.cli import argv as doit_argv
from tasks.cli.reporter import SummaryReporter, install_json
from tasks.cli.start import start
from tasks.families.shared import registry
from tasks.families.shared.run import Run


def creators() -> dict[str, Any]:
    """doit's task name -> creator, for every family (tasks/families/shared/registry.py).
    Internal steps start with "_" (doit hides them from `list`)."""
    families.load()
    return registry.creators()


def dodo(argv: list[str] | None = None, root: Path | None = None) -> dict[str, Any]:
    """The names a dodo.py exports: RUN, DOIT_CONFIG and one `task_<name>` per creator.

    The run is resolved once (tasks/cli/resolve.py): the environment, its configuration (or a
    clean error, exit 78), declared options and a lock so that two runs in one project never collide.
    """
    run: Run = start(sys.argv[1:] if argv is None else argv, Path.cwd() if root is None else root)
    install_json()  # `--reporter json` says "skipped" even where no doit.cfg names ours
    # Summary table and clean failures (tasks/cli/reporter.py).
    names: dict[str, Any] = {"RUN": run, "DOIT_CONFIG": {**run.doit_config(), "reporter": SummaryReporter}}
    everything = creators()
    wanted = _needed(run)
    for name, creator in everything.items():
        if wanted is None or name in wanted:
            names[f"task_{name}"] = run.bind(creator)
    return names


def _needed(run: Run) -> set[str] | None:
    """A run of named tasks creates only the tasks they need (registry.needed): creating every
    task of every family is most of a no-op's time. Any other command (list, info, ...), a
    word that is not a public task (a target, an alias) and a run naming no task get them all:
    the argv read here may not be what doit runs (a program calling `DoitMain().run(argv)`
    keeps its own sys.argv), and `doit` alone saves little (its tasks need most families)."""
    if run.command != doit_argv.RUN or not run.words:
        return None
    return registry.needed(run.words)
