"""doit tasks: `doit deploy:<env>` rolls a cloud environment (one with a `cloud:` block) forward.

It applies k8s/overlays/<env> with every image pinned to the digest the environment's
committed release record names (deploy/<env>/release.yaml, written by `push:<env>` or
`promote`; each digest is checked in the registry before anything is applied), starts Jobs whose
inputs changed, waits for everything together (undo + reasons on failure), then
smoke-checks that every Deployment is ready. Same engine as Minikube, in one task: a no-op
is one read of the Namespace. What each task does is tasks/ops/cloud_deploy.py.

`rollback:<env>` re-applies the known-good release the last deploy replaced, never a
relative `rollout undo`: after a deploy that already undid its own failure it changes nothing.
`promote from=<env> to=<env>` copies one environment's release record into another's, by digest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from tasks.errors import StackError
from tasks.families.shared.creators import each_cloud_env, user_errors
from tasks.families.shared.options import Option
from tasks.families.shared.registry import Scope, Task, creator
from tasks.families.shared.run import Run
from tasks.model import Config
from tasks.ops import cloud_deploy as ops
from tasks.ops import promote
from tasks.store.paths import listed


def _each(run: Run, doc: str, action: Callable[[Config], None]) -> Iterator[dict[str, Any]]:
    """One always-run subtask per cloud environment, named after it."""
    return each_cloud_env(run, partial(_always, doc, action), kubernetes_only=True)


def _always(doc: str, action: Any, cfg: Config) -> dict[str, Any]:
    return {
        "doc": doc.format(env=cfg.env),
        "actions": [user_errors(partial(action, cfg))],
        "uptodate": [False],
        "verbosity": 2,
    }


@creator(Task("deploy", Scope.NAMED, mutating=True), needs=("images", "push", "render"))
def task_deploy(run: Run) -> Iterator[dict[str, Any]]:
    """Deploy a cloud environment: pinned images, rollout wait, rollback on failure, smoke check."""
    return each_cloud_env(run, _deploy_task, kubernetes_only=True)


def _deploy_task(cfg: Config) -> dict[str, Any]:
    env = cfg.env
    t = ops.target(cfg)
    env_file = Path("compose") / env / ".env"
    return {
        "doc": f"Deploy {env} to {t.context} (images from {cfg.cloud.registry if cfg.cloud else ''}).",
        "actions": [user_errors(partial(ops.deploy, cfg))],
        # The committed release record is no file_dep: `current` compares what the cluster last
        # ran healthy with what the record pins, whether or not the file existed when doit began.
        "file_dep": [
            *listed("k8s/base", "k8s/components", str(t.overlay)),
            *([str(env_file)] if env_file.exists() else []),
        ],
        "uptodate": [(ops.current, [cfg])],
        "verbosity": 2,
    }


@creator(Task("smoke", Scope.NAMED))
def task_smoke(run: Run) -> Iterator[dict[str, Any]]:
    """Smoke-check a cloud environment (read-only): every Deployment rolled out and ready."""
    yield from _each(run, "Smoke-check {env}.", ops.smoke)


@creator(Task("rollback", Scope.NAMED, mutating=True))
def task_rollback(run: Run) -> Iterator[dict[str, Any]]:
    """Re-apply a cloud environment's known-good release (idempotent: twice changes nothing)."""
    yield from _each(
        run, "Re-apply {env}'s known-good release (the one its last deploy replaced).", ops.rollback
    )


@creator(Task("deploy_restored", Scope.NAMED))
def task_deploy_restored(run: Run) -> Iterator[dict[str, Any]]:
    """Exit 0 only when the last deploy undid its own failure (the workflow then skips rollback)."""
    yield from _each(run, "Did the last deploy of {env} restore the previous release?", ops.restored)


FROM = Option("from", str, "", "the cloud environment whose release record is promoted")
TO = Option("to", str, "", "the cloud environment that gets it (a protected one needs confirm=<env>)")


@user_errors
def _promote(run: Run, source: str, target: str) -> None:
    if not source or not target:
        raise StackError(
            "promote needs from=<env> and to=<env>",
            fix=f"run `doit promote from=<env> to=<env>`; cloud environments: {', '.join(_cloud(run))}",
        )
    for env in (source, target):
        if env not in _cloud(run):
            raise StackError(f"{env} is not a cloud environment", fix=f"use one of {', '.join(_cloud(run))}")
    promote.promote(run.config(source), run.config(target))


def _cloud(run: Run) -> list[str]:
    return [env for env, _ in run.cloud_envs()]


@creator(Task("promote", Scope.ALL, options=(FROM, TO), changes_option="to"))
def task_promote(run: Run) -> dict[str, Any]:
    """Promote a release by digest from=<env> to=<env>; a protected target needs confirm=<env>.

    The source's record is copied into the target's (images copied where the registries
    differ; never a build)."""
    return {
        "actions": [(_promote, [run, str(run.option(FROM)), str(run.option(TO))])],
        "uptodate": [False],
        "verbosity": 2,
        "params": run.params("promote"),
    }
