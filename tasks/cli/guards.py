"""The cloud safety rules, checked before any task runs.

- A task that changes a cloud environment (registered `mutating`) acts on exactly one,
  named in the task (`doit deploy:dev`), and `env=` may not contradict it.
- A cloud task names an environment that has a `cloud:` block.
- A cloud task never acts on a cluster another environment names (tasks/config/cloudcheck.py).
- A `protected: true` environment is changed only with `confirm=<env>`, or in CI.
- `confirm=<env>` confirms something: it names the protected environment the named tasks
  change (given anywhere else it is refused, never ignored).

The first and the two before the last apply to commands that run task actions only (`doit help
deploy` changes nothing).
"""

from __future__ import annotations

import os

from tasks.cli.exits import UsageError
from tasks.config import cloudcheck
from tasks.errors import StackError
from tasks.families.shared import registry
from tasks.families.shared.registry import Scope
from tasks.families.shared.run import Run
from tasks.model import Config


def cloud_choices(run: Run) -> list[str]:
    """The cloud environments to offer: those with a `cloud:` block, and every broken one (it
    may be a cloud environment, and the user should hear of it)."""
    return [env for env, _ in run.cloud_envs()]


def check_one_environment(run: Run, tasks: list[str]) -> None:
    mutated: list[str] = []
    for word in tasks:
        base, _, sub = word.partition(":")
        task = registry.task(base)
        if task is None or not task.mutating:
            continue
        if not sub:
            raise UsageError(
                f"`{base}` changes a cloud environment, so it acts on exactly one, named in the task",
                fix=f"run `doit {base}:<env>`; cloud environments: {', '.join(cloud_choices(run))}",
            )
        if sub not in mutated:
            mutated.append(sub)
    if len(mutated) > 1:
        raise UsageError(
            f"one run may change one cloud environment; this one names {', '.join(mutated)}",
            fix="run one command per environment",
        )
    check_env_agrees(run, tasks)


def check_env_agrees(run: Run, tasks: list[str]) -> None:
    """`tf_plan:dev env=local`: a cloud task's environment is its name, so an env= that names
    another one is a contradiction, whether or not the task changes anything."""
    wanted = run.vars.get("env")
    for _, env in _cloud_words(tasks):
        if wanted is not None and env and env != wanted:
            raise UsageError(
                f"env={wanted} contradicts the environment in the task name ({env})",
                fix="leave env= out: a cloud task's environment is its name",
            )


def _cloud_words(tasks: list[str]) -> list[tuple[str, str]]:
    """(basename, environment or "") of each task of a cloud family (one subtask per environment)."""
    out = []
    for word in tasks:
        task = registry.task(word)
        if task is not None and task.scope is Scope.NAMED:
            out.append((task.name, word.partition(":")[2]))
    return out


def check_cloud_named(run: Run, tasks: list[str]) -> None:
    """`deploy:local` names an environment without `cloud:`: doit alone would answer
    "Invalid parameter" (the subtask does not exist); say why and which ones do."""
    for base, env in _cloud_words(tasks):
        got = run.try_config(env) if env else None
        if isinstance(got, Config) and got.cloud is None:
            raise UsageError(
                f"{env} is not a cloud environment (environments/{env}.yaml has no `cloud:` block), "
                f"so there is no `{base}:{env}`",
                fix=f"use one of the cloud environments: {', '.join(cloud_choices(run))}",
            )


def check_distinct_clusters(run: Run, tasks: list[str]) -> None:
    """A cloud task never acts on a cluster another environment names."""
    cloud = _cloud_words(tasks)
    if cloud:
        named = [env for _, env in cloud]
        wanted = named if all(named) else run.envs
        configs: dict[str, Config | StackError] = {env: run.try_config(env) for env in run.envs}
        cloudcheck.check_distinct_clusters(run.root, wanted, configs)


def _changed(run: Run, word: str) -> str:
    """The cloud environment `word` changes: its subtask (`deploy:prod`), or the value of the
    option that names it (`promote to=prod`); "" for a task that changes none."""
    base, _, sub = word.partition(":")
    task = registry.task(base)
    if task is None:
        return ""
    if task.changes_option is not None:
        return run.vars.get(task.changes_option, "")
    return sub if task.mutating else ""


def check_confirmed(run: Run, tasks: list[str]) -> None:
    for word in tasks:
        sub = _changed(run, word)
        if not sub or sub not in run.envs:
            continue
        if run.config(sub).protected and os.environ.get("CI") != "true" and run.vars.get("confirm") != sub:
            raise UsageError(
                f"{sub} is a protected environment: `{word}` changes it",
                fix=f"if you mean it, run `doit {' '.join([word, *_spelled(run, word)])} confirm={sub}` "
                "(CI runs need no confirmation)",
            )


def _spelled(run: Run, word: str) -> list[str]:
    task = registry.task(word.partition(":")[0])
    return [f"{o.name}={run.vars[o.name]}" for o in task.options if o.name in run.vars] if task else []


def _protected_changed(run: Run, tasks: list[str]) -> list[str]:
    """The protected environments the named tasks change (`deploy:prod`)."""
    changed: list[str] = []
    for word in tasks:
        sub = _changed(run, word)
        got = run.try_config(sub) if sub and sub in run.envs else None
        if isinstance(got, Config) and got.protected and sub not in changed:
            changed.append(sub)
    return changed


def check_confirm_confirms(run: Run, tasks: list[str]) -> None:
    """`confirm=<env>` where nothing protected changes would be silently ignored: refuse it."""
    given = run.vars.get("confirm")
    if given is None:
        return
    changed = _protected_changed(run, tasks)
    if given in changed:
        return
    if changed:
        raise UsageError(
            f"confirm={given} does not name the protected environment this run changes "
            f"({', '.join(changed)})",
            fix=f"if you mean it, write `confirm={changed[0]}`",
        )
    got = run.try_config(given) if given in run.envs else None
    if not isinstance(got, Config):
        why = f"{given} is not an environment"
    elif got.protected:
        why = f"no task named changes {given}"
    else:
        why = f"{given} is not a protected environment"
    raise UsageError(
        f"confirm={given} confirms nothing here: {why}",
        fix="leave confirm= out: it confirms a task that changes a `protected: true` environment "
        "(`doit deploy:prod confirm=prod`)",
    )
