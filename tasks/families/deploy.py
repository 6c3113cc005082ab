"""doit tasks: `doit deploy:<env>` rolls a cloud environment (one with a `cloud:` block) forward.

It applies k8s/overlays/<env> with every image pinned to the content tag `push:<env>`
recorded (.build/<env>/images/<name>.ref, prefixed with cloud.registry), starts Jobs whose
inputs changed, waits for everything together (undo + reasons on failure), then
smoke-checks that every Deployment is ready. Same engine as Minikube (tasks/ops/targets.py on
tasks/ops/k8s_target.py), in one task: a no-op is one read of the Namespace.

`rollback:<env>` re-applies the known-good release the last deploy replaced
(tasks/ops/release.py), never a relative `rollout undo`: after a deploy that already undid
its own failure it changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from tasks.errors import StackError
from tasks.families.shared.creators import each_cloud_env, user_errors
from tasks.families.shared.registry import Scope, Task, creator
from tasks.families.shared.run import Run
from tasks.model import Config
from tasks.ops import k8s_deploy as kd
from tasks.ops import k8s_target, release, targets
from tasks.programs import kubectl
from tasks.store import atomic, images
from tasks.store.paths import files_under


def target(cfg: Config) -> kd.Target:
    return k8s_target.cloud(cfg).t


def deploy(cfg: Config) -> None:
    kubectl.require()
    targets.converge(k8s_target.cloud(cfg))
    kd.smoke(target(cfg), [d.name for d in cfg.deployments()])


def rollback(cfg: Config) -> None:
    """Re-apply the known-good release the last deploy replaced (tasks/ops/release.py)."""
    kubectl.require()
    tgt = k8s_target.cloud(cfg)
    tgt.remember = False
    record = release.read(release.known_good_file(tgt.t.state))
    if record is None:
        raise StackError(
            f"no known-good release recorded for {cfg.env} "
            f"({release.known_good_file(tgt.t.state)} is missing)",
            fix=f"a successful `doit deploy:{cfg.env}` records the release it replaces; "
            f"or copy a release file (releases/{cfg.env}.json) there",
        )
    refs = {str(k): str(v) for k, v in record["refs"].items()}
    print(
        f"  re-applying the known-good release of {cfg.env}: "
        + ", ".join(f"{k}={v.rsplit(':', 1)[-1][:12]}" for k, v in sorted(refs.items()))
    )
    tgt.apply(refs)
    targets.finish(tgt)


def export_release(cfg: Config) -> None:
    """Copy the release last seen healthy to releases/<env>.json (for promotion)."""
    state = target(cfg).state
    record = release.read(release.current_file(state))
    if record is None:
        raise StackError(
            f"no healthy release recorded for {cfg.env}", fix=f"run `doit deploy:{cfg.env}` first"
        )
    dest = Path("releases") / f"{cfg.env}.json"
    atomic.write_text(dest, release.current_file(state).read_text(encoding="utf-8"))
    print(f"  {dest} written ({len(record['refs'])} images)")


def current(cfg: Config) -> bool:
    t = target(cfg)
    # What the cluster last ran healthy must be the images this deploy would pin: after a
    # rollback the cluster is healthy and carries its hash, but runs the older release.
    live = release.read(release.current_file(t.state))
    if live is None or live["refs"] != images.refs(t.env, cfg.cluster_images()):
        return False
    ns = kd.live_namespace(t)  # None when unreachable: then nothing below is current
    return kd.apply_current(t, ns) and all(kd.job_current(t, j.name, ns) for j in cfg.jobs())


def restored(cfg: Config) -> None:
    """Succeeds only when the last deploy failed and undid its own failure completely."""
    path = target(cfg).state / "outcome.json"
    outcome = kd._read_json(path)
    if not outcome.get("restored"):
        state = (
            "succeeded"
            if outcome.get("ok")
            else (
                "left " + ", ".join(outcome.get("failed", [])) + " failing"
                if outcome
                else "recorded no outcome"
            )
        )
        raise StackError(
            f"the last deploy of {cfg.env} did not restore the previous release: it {state}",
            fix=f"`doit rollback:{cfg.env}` re-applies the known-good release",
        )
    print(f"  the last deploy of {cfg.env} failed and restored the previous release itself")


def _each(run: Run, doc: str, action: Any) -> Iterator[dict[str, Any]]:
    """One always-run subtask per cloud environment, named after it."""
    return each_cloud_env(run, partial(_always, doc, action), kubernetes_only=True)


def _always(doc: str, action: Any, cfg: Config) -> dict[str, Any]:
    return {
        "doc": doc.format(env=cfg.env),
        "actions": [user_errors(partial(action, cfg))],
        "uptodate": [False],
        "verbosity": 2,
    }


@creator(Task("deploy", Scope.NAMED, mutating=True))
def task_deploy(run: Run) -> Iterator[dict[str, Any]]:
    """Deploy a cloud environment: pinned images, rollout wait, rollback on failure, smoke check."""
    return each_cloud_env(run, _deploy_task, kubernetes_only=True)


def _deploy_task(cfg: Config) -> dict[str, Any]:
    env = str(cfg.env)
    t = target(cfg)
    refs = [str(images.ref_file(env, n)) for n in cfg.cluster_images()]
    env_file = Path("compose") / env / ".env"
    return {
        "doc": f"Deploy {env} to {t.context} (images from {cfg.cloud.registry if cfg.cloud else ''}).",
        "actions": [user_errors(partial(deploy, cfg))],
        # Only refs that exist: a missing one is reported by the action with its fix.
        "file_dep": [
            *(r for r in refs if Path(r).exists()),
            *files_under("k8s/base", "k8s/components", str(t.overlay)),
            *([str(env_file)] if env_file.exists() else []),
        ],
        "uptodate": [(current, [cfg])],
        "task_dep": [f"push:{env}"],  # the registry must hold what we pin
        "verbosity": 2,
    }


@creator(Task("smoke", Scope.NAMED))
def task_smoke(run: Run) -> Iterator[dict[str, Any]]:
    """Smoke-check a cloud environment (read-only): every Deployment rolled out and ready."""
    yield from _each(run, "Smoke-check {env}.", smoke)


def smoke(cfg: Config) -> None:
    kd.smoke(target(cfg), [d.name for d in cfg.deployments()])


@creator(Task("rollback", Scope.NAMED, mutating=True))
def task_rollback(run: Run) -> Iterator[dict[str, Any]]:
    """Re-apply a cloud environment's known-good release (idempotent: twice changes nothing)."""
    yield from _each(run, "Re-apply {env}'s known-good release (the one its last deploy replaced).", rollback)


@creator(Task("deploy_restored", Scope.NAMED))
def task_deploy_restored(run: Run) -> Iterator[dict[str, Any]]:
    """Exit 0 only when the last deploy undid its own failure (the workflow then skips rollback)."""
    yield from _each(run, "Did the last deploy of {env} restore the previous release?", restored)


@creator(Task("release_export", Scope.NAMED))
def task_release_export(run: Run) -> Iterator[dict[str, Any]]:
    """Write releases/<env>.json: the images last seen healthy (for promotion)."""
    yield from _each(run, "Copy {env}'s healthy release record to releases/{env}.json.", export_release)
