"""Resolve the run once: environment, configuration (or its error), options, lock.

`dodo.py` calls `start(argv, root)` and hands the resulting `Run` to every task
creator; nothing below reads argv or doit's `get_var`. One rule decides the
environment (see `Run.env_for`), and every configuration file the requested tasks
need is loaded here, so a broken file is reported once, as file, line, key and fix,
before any task is built or run (exit 78), whatever the command, `doit list` included.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from tasks.cli import exits, interrupts
from tasks.cli.exits import UsageError
from tasks.config import cloudcheck
from tasks.config import load as config
from tasks.errors import StackError
from tasks.families.shared import catalog
from tasks.families.shared.catalog import Scope
from tasks.families.shared.run import DEFAULT_TASKS, Run
from tasks.model import Config
from tasks.store import state

COMMANDS = {
    "run",
    "list",
    "info",
    "help",
    "clean",
    "forget",
    "ignore",
    "dumpdb",
    "strace",
    "auto",
    "tabcompletion",
    "reset-dep",
}
# Commands that only read: they never wait for (or take) the run lock.
READ_ONLY = {"list", "info", "help", "dumpdb", "tabcompletion"}
# doit's own options that take a value as the next word (`-v 2`, `--reporter json`).
VALUE_OPTIONS = {
    "-f",
    "--file",
    "-d",
    "--dir",
    "--db-file",
    "--backend",
    "--check_file_uptodate",
    "--codec-cls",
    "-v",
    "--verbosity",
    "-r",
    "--reporter",
    "-o",
    "--output-file",
    "-n",
    "--process",
    "-P",
    "--parallel-type",
    "--failure-verbosity",
    "--template",
    "--sort",
}
# Commands that execute task actions: only they need one named, confirmed cloud environment
# (`doit help deploy`, `doit list deploy`, `doit forget deploy:prod` change nothing).
EXECUTING = {"run", "strace", "auto"}
T = TypeVar("T")


# --------------------------------------------------------------------------- resolving


def split_argv(argv: list[str]) -> tuple[str, list[str], dict[str, str]]:
    """(command, task words, key=value vars), the way doit reads its command line."""
    command = "run"
    words: list[str] = []
    given: dict[str, str] = {}
    valued = {f"--{o.name}" for o in catalog.options().values() if o.kind is not bool}
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg.startswith("-"):
            skip = "=" not in arg and (arg in VALUE_OPTIONS or arg in valued)
            continue
        if "=" in arg:
            key, value = arg.split("=", 1)
            given[key] = value
            continue
        if not words and command == "run" and arg in COMMANDS:
            command = arg
            continue
        words.append(arg)
    return command, words, given


# doit's own flags (no value) that only work before the task names.
DOIT_FLAGS = {"-c", "--continue", "-a", "--always-execute", "-s", "--single", "-k", "--seek-file", "--pdb"}


def _check_option_order(argv: list[str]) -> None:
    """doit reads its own options before the task names and a task's options after its name;
    the other way round it prints its option table. Say where the option goes instead."""
    opts = catalog.options()
    after_task = False
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        name, has_value, _ = arg.partition("=")
        # (A task option before the task, `doit --wipe compose_down`, never gets here: doit
        # refuses it before it reads dodo.py.)
        opt = opts.get(name[2:]) if name.startswith("--") else None
        if opt is not None and opt.kind is bool and has_value:
            raise UsageError(f"{arg}: {name} takes no value", fix=f"write `{name}`, or `{opt.name}=1`")
        if after_task and (name in VALUE_OPTIONS or name in DOIT_FLAGS):
            raise UsageError(
                f"{name} is an option of doit, so it goes before the task names",
                fix=f"put it first: `doit {name}{'' if name not in VALUE_OPTIONS else ' <value>'} <tasks>`"
                " (e.g. `doit -v 2 render`)",
            )
        if arg.startswith("-"):
            skip = not has_value and not after_task and name in VALUE_OPTIONS
        elif "=" not in arg and not (arg == "run" and not after_task):
            after_task = True


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def _is_target(word: str) -> bool:
    # doit also accepts a file it can build (`doit k8s/base/namespace.yaml`).
    return "/" in word or "." in word.split(":")[0]


def resolve(argv: list[str], root: Path) -> Run:
    """Decide everything about this run; raise UsageError or the first ConfigError found."""
    command, words, given = split_argv(argv)
    if command == "run":
        _check_option_order(argv)
    envs = config.environments(root)
    _check_vars(given)
    tasks = (
        [w for w in words if not _is_target(w)]
        if command not in ("help", "dumpdb")
        else [w for w in words if w.split(":")[0] in catalog.TASKS]
    )
    if command == "run" and not words:
        tasks = list(DEFAULT_TASKS)
    for word in tasks:
        _check_word(word, envs)
    named = _named_envs(tasks)
    if command in EXECUTING:
        _check_mutating(tasks, given, root, envs)
    env, inferred = _choose_env(tasks, named, given)
    if "env" in given:
        try:
            config.check_env_name(given["env"], root)
        except StackError as exc:
            raise UsageError(exc.message, fix=exc.fix) from None
    run = Run(root=root, command=command, words=words, vars=given, env=env, envs=envs, inferred=inferred)
    errors = _load_needed(run, tasks)
    if errors:
        raise errors[0] if len(errors) == 1 else _Several(errors)
    _check_cloud_named(run, tasks)
    if command in EXECUTING:
        _check_clusters(run, tasks)
        _check_protected(run, tasks, named)
    return run


class _Several(StackError):
    def __init__(self, errors: list[StackError]) -> None:
        self.errors = errors
        super().__init__("\n".join(e.render() for e in errors))


def _check_vars(given: dict[str, str]) -> None:
    options = catalog.options()
    for key, value in given.items():
        if key in catalog.RUN_VARS:
            continue
        if key not in options:
            known = sorted({*catalog.RUN_VARS, *options})
            raise UsageError(
                f"unknown option {key}={value}",
                fix=f"{_suggest(key, known)}known options: {', '.join(known)} "
                "(`doit help <task>` lists a task's options)",
            )
        try:
            catalog.parse(options[key], value)
        except ValueError as exc:
            raise UsageError(f"{key}={value} is not a valid value for {key}", fix=str(exc)) from None


def _check_word(word: str, envs: list[str]) -> None:
    base, _, sub = word.partition(":")
    if base.startswith("_"):
        return  # internal steps may be run by hand; doit checks they exist
    if base not in catalog.TASKS:
        raise UsageError(
            f"unknown task {word!r}",
            fix=f"{_suggest(base, [*catalog.TASKS, *COMMANDS])}`doit list` shows every task",
        )
    if sub and catalog.TASKS[base].scope is Scope.NAMED and sub not in envs:
        raise UsageError(
            f"unknown environment {sub!r} in {word!r}",
            fix=f"{_suggest(sub, envs)}environments: {', '.join(envs)}",
        )


def _named_envs(tasks: list[str]) -> list[str]:
    out: list[str] = []
    for word in tasks:
        base, _, sub = word.partition(":")
        if sub and base in catalog.TASKS and catalog.TASKS[base].scope is Scope.NAMED and sub not in out:
            out.append(sub)
    return out


def _cloud_choices(root: Path, envs: list[str]) -> list[str]:
    out = []
    for env in envs:
        try:
            if config.load(env, root).cloud is not None:
                out.append(env)
        except StackError:
            out.append(env)  # broken: it may be a cloud environment, and the user should hear of it
    return out


def _check_mutating(tasks: list[str], given: dict[str, str], root: Path, envs: list[str]) -> None:
    mutated: list[str] = []
    for word in tasks:
        base, _, sub = word.partition(":")
        entry = catalog.TASKS.get(base)
        if entry is None or not entry.mutating:
            continue
        if not sub:
            raise UsageError(
                f"`{base}` changes a cloud environment, so it acts on exactly one, named in the task",
                fix=f"run `doit {base}:<env>`; cloud environments: {', '.join(_cloud_choices(root, envs))}",
            )
        if sub not in mutated:
            mutated.append(sub)
    if len(mutated) > 1:
        raise UsageError(
            f"one run may change one cloud environment; this one names {', '.join(mutated)}",
            fix="run one command per environment",
        )
    if mutated and "env" in given and given["env"] != mutated[0]:
        raise UsageError(
            f"env={given['env']} contradicts the environment in the task name ({mutated[0]})",
            fix="leave env= out: a cloud task's environment is its name",
        )


def _choose_env(tasks: list[str], named: list[str], given: dict[str, str]) -> tuple[str, bool]:
    if "env" in given:
        return given["env"], False
    if named:
        return named[0], True
    for word in tasks:
        entry = catalog.TASKS.get(word.partition(":")[0])
        if entry is not None and entry.scope is Scope.SELECTED and entry.default_env != "local":
            return entry.default_env, True
    return "local", False


def _load_needed(run: Run, tasks: list[str]) -> list[StackError]:
    """Load what the requested tasks read; every broken file is one error, reported once."""
    if run.command in ("help", "dumpdb") and not tasks:
        # gremlin: pardon[equivalent] the caller only tests the result for truth: None is "no errors" too
        return []
    wanted: list[str | None] = [None]
    everything = run.command in ("list", "tabcompletion") or (
        run.command in ("clean", "forget", "ignore", "reset-dep") and not tasks
    )
    for word in tasks:
        base, _, sub = word.partition(":")
        entry = catalog.TASKS.get(base)
        if entry is None:
            continue
        if entry.scope is Scope.ALL or (entry.scope is Scope.NAMED and not sub):
            everything = True
        elif entry.scope is Scope.NAMED:
            wanted.append(sub)
        elif entry.scope is Scope.SELECTED:
            wanted.append(run.env_for(base))
    # A target (`doit k8s/overlays/prod/kustomization.yaml`) reads its environment's file:
    # when that is broken, its subtask is missing and doit would only say "Invalid parameter".
    for word in run.words:
        parts = Path(word).parts if _is_target(word) else ()
        wanted += [part for part in parts[1:3] if part in run.envs]
    if everything:
        wanted += run.envs
    errors: list[StackError] = []
    seen: set[str] = set()
    stack = run.try_config(None)
    if isinstance(stack, StackError):
        return [stack]  # every environment merges it: one report, not one per environment
    for env in dict.fromkeys(wanted):
        got = run.try_config(env)
        if isinstance(got, StackError) and got.render() not in seen:
            seen.add(got.render())
            errors.append(got)
    return errors


def _check_cloud_named(run: Run, tasks: list[str]) -> None:
    """`deploy:local` names an environment without `cloud:`: doit alone would answer
    "Invalid parameter" (the subtask does not exist); say why and which ones do."""
    for word in tasks:
        base, _, sub = word.partition(":")
        entry = catalog.TASKS.get(base)
        if entry is None or entry.scope is not Scope.NAMED or not sub:
            continue
        got = run.try_config(sub)
        if isinstance(got, Config) and got.cloud is None:
            clouds = [env for env, _ in run.cloud_envs()]
            raise UsageError(
                f"{sub} is not a cloud environment (environments/{sub}.yaml has no `cloud:` block), "
                f"so there is no `{word}`",
                fix=f"use one of the cloud environments: {', '.join(clouds)}",
            )


def _check_clusters(run: Run, tasks: list[str]) -> None:
    """A cloud task never acts on a cluster another environment names (tasks/config/cloudcheck.py)."""
    cloud = [
        w.partition(":")
        for w in tasks
        if catalog.TASKS.get(w.partition(":")[0]) is not None
        and catalog.TASKS[w.partition(":")[0]].scope is Scope.NAMED
    ]
    if cloud:
        wanted = [sub for _, _, sub in cloud if sub] if all(sub for _, _, sub in cloud) else run.envs
        cloudcheck.check_distinct_clusters(run.root, wanted, {env: run.try_config(env) for env in run.envs})


def _check_protected(run: Run, tasks: list[str], named: list[str]) -> None:
    for word in tasks:
        base, _, sub = word.partition(":")
        entry = catalog.TASKS.get(base)
        if entry is None or not entry.mutating or not sub:
            continue
        if run.config(sub).protected and os.environ.get("CI") != "true" and run.vars.get("confirm") != sub:
            raise UsageError(
                f"{sub} is a protected environment: `{word}` changes it",
                fix=f"if you mean it, run `doit {word} confirm={sub}` (CI runs need no confirmation)",
            )


# --------------------------------------------------------------------------- starting


def start(argv: list[str], root: Path) -> Run:
    """What dodo.py calls: resolve (or report and exit), then make the run safe to execute."""
    try:
        run = resolve(argv, root)
    except _Several as exc:
        exits.fatal(*exc.errors)
    except StackError as exc:
        exits.fatal(exc)
    interrupts.install()  # again: idempotent, and dodo.py may not have called it
    _install_atomic_db()
    try:  # (doit_config makes the state folder; here, a .build in the way is one clear error)
        if run.command not in READ_ONLY:
            try:
                state.acquire_lock(" ".join(["doit", *argv]), waiting=_say_waiting)
            except KeyboardInterrupt:
                # No task had started: say that, not "the running task was not recorded".
                print(
                    "\nInterrupted while waiting for the other run: nothing ran.", file=sys.stderr, flush=True
                )
                raise SystemExit(exits.INTERRUPTED) from None
            state.sweep_temps(
                root,
                ("k8s", "compose", "terraform", str(state.BUILD / "state"), str(state.BUILD / "manifests")),
            )
        note = state.repair_dep_file(state.dep_file(run.env))
    except OSError as exc:  # a file named .build, a folder named run.lock, ...
        exits.fatal(
            StackError(
                f"cannot use the build state folder {state.BUILD}/: {exc}",
                fix=f"remove what is in the way (`rm -rf {state.BUILD}` is always safe), then run again",
            )
        )
    if note:
        print(f"NOTE: {note}", file=sys.stderr, flush=True)
    return run


def _say_waiting(holder: str) -> None:
    if holder.startswith("done"):
        print(f"  {holder}", file=sys.stderr, flush=True)
    else:
        print(
            f"Another run holds this checkout: waiting for {holder} to finish (Ctrl-C to give up)...",
            file=sys.stderr,
            flush=True,
        )


def _install_atomic_db() -> None:
    """doit 0.37 writes its JSON database in place, so a kill mid-write truncates it:
    route its `dump` through `state.write_atomic` (one class attribute, set once)."""
    from doit.dependency import JsonDB

    if getattr(JsonDB.dump, "stackbuild", False):
        return

    def dump(self: Any) -> None:
        state.write_atomic(Path(self.name), self.codec.encode(self._db))

    dump.stackbuild = True  # type: ignore[attr-defined]
    JsonDB.dump = dump
