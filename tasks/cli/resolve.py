"""Resolve the run once: which tasks, which environment, every configuration they read.

Everything comes from doit's grammar (tasks/cli/argv.py) and the task registry
(tasks/families/shared/registry.py). One rule decides the environment (see `Run.env_for`),
and every configuration file the requested tasks need is loaded here, so a broken file is
reported once, as file, line, key and fix, before any task is built or run (exit 78),
whatever the command, `doit list` included. The cloud safety rules are tasks/cli/guards.py.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

from tasks import defaults, families
from tasks.cli import aliases as project_aliases
from tasks.cli import argv as doit_argv
from tasks.cli import guards
from tasks.cli.exits import Several, UsageError
from tasks.config import cloudcheck
from tasks.config import load as config
from tasks.errors import StackError
from tasks.families.shared import options, registry
from tasks.families.shared.registry import Scope
from tasks.families.shared.run import DEFAULT_TASKS, Run
from tasks.model import Config

# Words that are `key=value` run variables rather than task options.
RUN_VARS = {
    "env": f"the environment (default: {defaults.describe()})",
    "confirm": "repeat a protected environment's name to change it outside CI",
}
# Tasks the tool had and no longer has: where each went (docs/upgrading.md says more), so an old
# script's word gets an answer instead of doit's "unknown task".
REMOVED = {
    "release_export": "`release_export` is gone: `doit promote from=<env> to=<env>` copies a release "
    'between environments (docs/upgrading.md, "From 0.1.0")',
}
# Commands whose words may be anything doit knows (`doit help task`): only task names are checked.
ANY_WORDS = ("help", "dumpdb")
# Commands that read every task, or every task when none is named.
EVERY_TASK = ("list", "tabcompletion", "taskgraph")
EVERY_TASK_UNLESS_NAMED = ("clean", "forget", "ignore", "reset-dep")


def resolve(argv: list[str], root: Path) -> Run:
    """Decide everything about this run; raise UsageError or the first ConfigError found."""
    families.load()  # the registry holds what every family declares
    known = registry.tasks()
    spelled = {f"--{opt.name}": opt.kind is bool for opt in registry.options().values()}
    grammar = doit_argv.grammar(root)
    doit_argv.check_dashed_vars(argv, grammar, RUN_VARS)
    task_valued = [s for s, flag in spelled.items() if not flag]
    words = doit_argv.split(argv, grammar, task_valued=task_valued)
    executing = grammar.commands[words.command].executes
    if words.command == doit_argv.RUN:
        doit_argv.check_option_order(argv, grammar, task_flags=[s for s, flag in spelled.items() if flag])
    envs = config.environments(root)
    _check_vars(words.vars)
    _check_dashed_values(argv)
    # (after its values are checked: `--port=x` is refused in the spelling it was given)
    _merge_dashed(words.vars, doit_argv.dashed_values(argv, task_valued))
    stack = _stack(root)
    aliases = project_aliases.checked(stack, root, tasks=known, commands=grammar.commands)
    if words.command in ANY_WORDS:
        tasks = [w for w in words.tasks if w.split(":")[0] in {*known, *aliases}]
    else:
        tasks = [w for w in words.tasks if not is_target(w)]
    if words.command == doit_argv.RUN and not words.tasks:
        tasks = list(DEFAULT_TASKS)
    # From here on an alias counts as the task it names (its environment, the cloud guards).
    tasks = [project_aliases.target(word, aliases) for word in tasks]
    for word in tasks:
        _check_word(word, envs, [*aliases, *grammar.commands], stack)
    if executing:
        _check_taken(tasks, words.vars)
    named = _named_envs(tasks)
    roles = {role: config.default_env(root, role) for role in (defaults.LOCAL, defaults.MINIKUBE)}
    env, inferred = _choose_env(tasks, named, words.vars, roles)
    run = Run(root, words.command, words.tasks, words.vars, env, envs, inferred=inferred, default_envs=roles)
    if executing:
        guards.check_one_environment(run, tasks)
    if "env" in words.vars:
        try:
            config.check_env_name(words.vars["env"], root)
        except StackError as exc:
            raise UsageError(exc.message, fix=exc.fix) from None
    errors = _load_needed(run, tasks)
    if errors:
        raise errors[0] if len(errors) == 1 else Several(errors)
    guards.check_cloud_named(run, tasks)
    guards.check_confirm_confirms(run, tasks)
    if executing:
        guards.check_distinct_clusters(run, tasks)
        guards.check_confirmed(run, tasks)
    return run


def suggest(word: str, choices: Iterable[str]) -> str:
    """`did you mean 'compose_up'? ` when one choice is close, else nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def is_target(word: str) -> bool:
    """A file to build, not a task: doit also accepts `doit k8s/base/namespace.yaml`."""
    return "/" in word or "." in word.split(":")[0]


def _check_vars(given: dict[str, str]) -> None:
    known = registry.options()
    for key, value in given.items():
        if key in RUN_VARS:
            continue
        if key not in known:
            names = sorted({*RUN_VARS, *known})
            raise UsageError(
                f"unknown option {key}={value}",
                fix=f"{suggest(key, names)}known options: {', '.join(names)} "
                "(`doit help <task>` lists a task's options)",
            )
        try:
            options.parse(known[key], value)
        except ValueError as exc:
            raise UsageError(f"{key}={value} is not a valid value for {key}", fix=str(exc)) from None


def _merge_dashed(given: dict[str, str], dashed: dict[str, str]) -> None:
    """`--to=prod` counts as `to=prod` for every check (and twice, differently, is refused)."""
    for key, value in dashed.items():
        if given.get(key, value) != value:
            raise UsageError(
                f"{key}= is given twice (--{key}={value}, {key}={given[key]})",
                fix=f"give {key}= once",
            )
        given[key] = value


def _check_dashed_values(argv: list[str]) -> None:
    """`doit ui --port=x`: a task option in doit's own spelling with a value of the wrong kind,
    which doit would refuse with its raw parse error."""
    known = registry.options()
    for i, arg in enumerate(argv):
        name, has_value, value = arg.partition("=")
        opt = known.get(name[2:]) if name.startswith("--") else None
        if opt is None or opt.kind is bool:
            continue
        if not has_value:
            if i + 1 >= len(argv):
                raise UsageError(f"{name} needs a value", fix=f"write {opt.name}=<value>")
            value = argv[i + 1]
        try:
            options.parse(opt, value)
        except ValueError as exc:
            raise UsageError(f"{name}={value} is not a valid value for {opt.name}", fix=str(exc)) from None


def _check_taken(tasks: list[str], given: dict[str, str]) -> None:
    """`doit dev host=0.0.0.0`: an option no task of the run takes would be dropped silently."""
    entries = [registry.task(word) for word in tasks]
    if any(entry is None for entry in entries):
        return  # an internal step (`_preflight`): doit checks it; its options are its own
    taken = {opt.name for entry in entries if entry is not None for opt in entry.options}
    for key in given:
        if key in RUN_VARS or key in taken:
            continue
        takers = sorted(
            name for name, entry in registry.tasks().items() if key in {o.name for o in entry.options}
        )
        raise UsageError(
            f"no task of this run takes {key}= ({', '.join(tasks)})",
            fix=f"{key}= is an option of {', '.join(takers)}: run that task, or leave {key}= out",
        )


def _stack(root: Path) -> Config | StackError:
    """The stack alone (its aliases); loaded once, the run's own load finds it cached."""
    try:
        return config.load_stack(root)
    except StackError as exc:
        return exc


def _check_word(word: str, envs: list[str], others: Iterable[str], stack: Config | StackError) -> None:
    """`others`: the aliases and doit's commands, for "did you mean"."""
    base, _, sub = word.partition(":")
    if base.startswith("_"):
        return  # internal steps may be run by hand; doit checks they exist
    task = registry.task(base)
    if task is None and isinstance(stack, StackError):
        raise stack  # the word may be an alias of the broken stack file: its error says what to fix
    if task is None and base in REMOVED:
        raise UsageError(f"there is no task {word!r} any more", fix=REMOVED[base])
    if task is None:
        raise UsageError(
            f"unknown task {word!r}",
            fix=f"{suggest(base, [*registry.tasks(), *others])}`doit list` shows every task",
        )
    if sub and task.scope is Scope.NAMED and sub not in envs:
        raise UsageError(
            f"unknown environment {sub!r} in {word!r}",
            fix=f"{suggest(sub, envs)}environments: {', '.join(envs)}",
        )


def _named_envs(tasks: list[str]) -> list[str]:
    """The environments named in the tasks (`deploy:dev`), in order."""
    out: list[str] = []
    for word in tasks:
        task, sub = registry.task(word), word.partition(":")[2]
        if sub and task is not None and task.scope is Scope.NAMED and sub not in out:
            out.append(sub)
    return out


def _choose_env(
    tasks: list[str], named: list[str], given: dict[str, str], roles: dict[str, str]
) -> tuple[str, bool]:
    """(the run's environment, whether the requested tasks implied it): env=, else the first
    environment a task names, else the first family default that is not the run's default
    (`roles`: each default's environment in this project, tasks/config/load.py default_env)."""
    if "env" in given:
        return given["env"], False
    if named:
        return named[0], True
    for word in tasks:
        task = registry.task(word)
        if task is not None and task.scope is Scope.SELECTED and task.default_env != defaults.LOCAL:
            return roles.get(task.default_env, task.default_env), True
    return roles[defaults.LOCAL], False


def _wanted(run: Run, tasks: list[str]) -> list[str | None]:
    """The environments whose files the requested tasks read (None: the stack alone)."""
    wanted: list[str | None] = [None]
    everything = run.command in EVERY_TASK or (run.command in EVERY_TASK_UNLESS_NAMED and not tasks)
    for word in tasks:
        task, sub = registry.task(word), word.partition(":")[2]
        if task is None:
            continue
        if task.scope is Scope.ALL or (task.scope is Scope.NAMED and not sub):
            everything = True
        elif task.scope is Scope.NAMED:
            wanted.append(sub)
        elif task.scope is Scope.SELECTED:
            wanted.append(run.env_for(task.name))
    # A target (`doit k8s/overlays/prod/kustomization.yaml`) reads its environment's file:
    # when that is broken, its subtask is missing and doit would only say "Invalid parameter".
    for word in run.words:
        parts = Path(word).parts if is_target(word) else ()
        wanted += [part for part in parts[1:3] if part in run.envs]
    return [*wanted, *run.envs] if everything else wanted


def _creates_shared(run: Run, wanted: Iterable[str | None]) -> bool:
    """A wanted environment creates its account's shared resources (`cloud.create_shared`)."""
    for env in wanted:
        got = run.try_config(env) if env else None
        if isinstance(got, Config) and got.cloud is not None and got.cloud.create_shared:
            return True
    return False


def _tolerant(word: str) -> bool:
    task = registry.task(word)
    return task is not None and task.tolerant


def _load_needed(run: Run, tasks: list[str]) -> list[StackError]:
    """Load what the requested tasks read; every broken file is one error, reported once."""
    # `doit help` shows what it can whatever the files say, and a task that shows a broken
    # configuration itself (doctor) runs: the first commands a user types are never blocked.
    if run.command in ANY_WORDS or (tasks and all(_tolerant(word) for word in tasks)):
        return []
    stack = run.try_config(None)
    if isinstance(stack, StackError):
        return [stack]  # every environment merges it: one report, not one per environment
    errors: list[StackError] = []
    seen: set[str] = set()
    wanted = dict.fromkeys(_wanted(run, tasks))
    for env in wanted:
        got = run.try_config(env)
        if isinstance(got, StackError) and got.render() not in seen:
            seen.add(got.render())
            errors.append(got)
    if not errors and (set(run.envs) <= set(wanted) or _creates_shared(run, wanted)):
        # Every environment is read (or a task acts for one that creates what its AWS account
        # shares, whose tf_apply another creator would break): judge what holds across them.
        try:
            cloudcheck.check_shared_created_once(run.root, {env: run.try_config(env) for env in run.envs})
        except StackError as exc:
            errors.append(exc)
    return errors
