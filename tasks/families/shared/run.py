"""The resolved run: what every task creator may know about this run (tasks/cli/resolve.py makes it).

Nothing below the command line reads argv or doit's `get_var`: the environment, the
configuration of each environment (loaded once, or its error), and the `key=value` options
all come from here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tasks.config import load as config
from tasks.errors import StackError
from tasks.families.shared import options, registry
from tasks.families.shared.options import Option
from tasks.model import STACK, Config
from tasks.store import state

DEFAULT_TASKS = ["render", "validate"]
# Tasks that run for as long as a person keeps them (the status page) and record nothing.
SERVING = ("ui",)
T = TypeVar("T")


@dataclass
class Run:
    """Everything a task creator may know about this run."""

    root: Path
    command: str
    words: list[str]  # the requested task names (and targets), as typed
    vars: dict[str, str]  # key=value words
    env: str  # the run's own environment: its doit database, and the default of env-bound families
    envs: list[str]  # every environment with a file under environments/
    inferred: bool = False  # env came from the requested tasks, not from env= or a default
    # A family's default (tasks/defaults.py: LOCAL, MINIKUBE) -> this project's environment for it.
    default_envs: dict[str, str] = field(default_factory=dict)
    _configs: dict[str | None, Config | StackError] = field(default_factory=dict)
    _once: dict[str, Any] = field(default_factory=dict)

    # -- configuration ---------------------------------------------------------------

    def config(self, env: str | None) -> Config:
        """One environment's merged config (None: the stack alone); raises its StackError."""
        got = self.try_config(env)
        if isinstance(got, StackError):
            raise got
        return got

    def try_config(self, env: str | None) -> Config | StackError:
        if env not in self._configs:
            try:
                self._configs[env] = (
                    config.load_stack(self.root) if env is None else config.load(env, self.root)
                )
            except StackError as exc:
                self._configs[env] = exc
        return self._configs[env]

    def env_for(self, basename: str) -> str:
        """The environment of an env-bound task: `env=` if given; else the one the requested
        tasks imply (`doit minikube_up` starts the minikube environment's host databases);
        else the family's own default."""
        if "env" in self.vars or self.inferred:
            return self.env
        role = registry.tasks()[basename].default_env
        return self.default_envs.get(role, role)

    def cloud_envs(self) -> list[tuple[str, Config | StackError]]:
        """Environments a cloud family makes subtasks for: those with a `cloud:` block, and
        every broken one (its subtasks must fail with the error, never vanish)."""
        out: list[tuple[str, Config | StackError]] = []
        for env in self.envs:
            got = self.try_config(env)
            if isinstance(got, StackError) or got.cloud is not None:
                out.append((env, got))
        return out

    def once(self, key: str, make: Callable[[], T]) -> T:
        """What `make` returns, made once per run: task creation asks for some facts of the
        project (a folder's files) from many subtasks, and they cannot change while it runs."""
        if key not in self._once:
            self._once[key] = make()
        found: T = self._once[key]
        return found

    # -- options -----------------------------------------------------------------------

    def params(self, basename: str) -> list[dict[str, object]]:
        """doit `params` of a public task's options, with this run's `key=value` words as defaults."""
        return options.params(registry.tasks()[basename].options, self.vars)

    def with_params(self, task: dict[str, Any]) -> dict[str, Any]:
        """A family's task dict with its options as doit `params`, when it is a public task."""
        entry = registry.task(str(task.get("basename", "")))
        return {**task, "params": self.params(entry.name)} if entry else task

    def option(self, opt: Option) -> Any:
        """An option's value when a creator needs it at load time (actions get it as a param)."""
        return options.value(opt, self.vars)

    # -- doit ----------------------------------------------------------------------------

    def dep_file(self) -> Path:
        """doit's database of this run: its environment's, or, when that has no file (a project
        with no environment yet), the stack's, whose name no environment can have."""
        if self.words and all(w.partition(":")[0] in SERVING for w in self.words):
            # A page that serves until Ctrl-C must not write back, at its end, the database it read
            # at its start: the runs its buttons start record their tasks there meanwhile.
            return state.dep_file(f"{self.env}.serving")
        return state.dep_file(self.env if self.env in self.envs else STACK)

    def doit_config(self) -> dict[str, Any]:
        dep = self.dep_file()
        dep.parent.mkdir(parents=True, exist_ok=True)
        return {
            "default_tasks": DEFAULT_TASKS,
            "backend": "json",
            "dep_file": str(dep),
            "check_file_uptodate": "md5",
            "verbosity": 2,
        }

    def bind(self, creator: Callable[[Run], T]) -> Callable[[], T]:
        """A zero-argument task creator for dodo.py (doit calls creators without arguments)."""

        @functools.wraps(creator)
        def bound() -> T:
            return creator(self)

        return bound
