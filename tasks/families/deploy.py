"""doit tasks: `doit deploy:<env>` rolls a cloud environment (one with a `cloud:` block) forward.

It applies k8s/overlays/<env> with every image pinned to the content tag `push:<env>`
recorded (.build/<env>/images/<name>.ref, prefixed with cloud.registry), starts Jobs whose
inputs changed, waits for everything together (undo + reasons on failure), then
smoke-checks that every Deployment is ready. Same engine as Minikube, in one task: a no-op
is one read of the Namespace. What each task does is tasks/ops/cloud_deploy.py.

`rollback:<env>` re-applies the known-good release the last deploy replaced, never a
relative `rollout undo`: after a deploy that already undid its own failure it changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from tasks.families.shared.creators import each_cloud_env, user_errors
from tasks.families.shared.registry import Scope, Task, creator
from tasks.families.shared.run import Run
from tasks.model import Config
from tasks.ops import cloud_deploy as ops
from tasks.store import images
from tasks.store.paths import files_under


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
    refs = [str(images.ref_file(env, n)) for n in cfg.cluster_images()]
    env_file = Path("compose") / env / ".env"
    return {
        "doc": f"Deploy {env} to {t.context} (images from {cfg.cloud.registry if cfg.cloud else ''}).",
        "actions": [user_errors(partial(ops.deploy, cfg))],
        # Only refs that exist: a missing one is reported by the action with its fix.
        "file_dep": [
            *(r for r in refs if Path(r).exists()),
            *files_under("k8s/base", "k8s/components", str(t.overlay)),
            *([str(env_file)] if env_file.exists() else []),
        ],
        "uptodate": [(ops.current, [cfg])],
        "task_dep": [f"push:{env}"],  # the registry must hold what we pin
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


@creator(Task("release_export", Scope.NAMED))
def task_release_export(run: Run) -> Iterator[dict[str, Any]]:
    """Write releases/<env>.json: the images last seen healthy (for promotion)."""
    yield from _each(run, "Copy {env}'s healthy release record to releases/{env}.json.", ops.export_release)
