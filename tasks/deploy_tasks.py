"""doit tasks: `doit deploy:<env>` rolls a cloud environment (dev/staging/prod) forward.

It applies k8s/overlays/<env> with every image pinned to the content tag `push:<env>`
recorded (.build/<env>/images/<name>.ref, prefixed with cloud.registry), waits for the
rollout (undo + reasons on failure), re-runs Jobs whose inputs changed, then smoke-checks
that every Deployment is ready. Same logic as Minikube (tasks/k8s_deploy.py), in one
task: a cloud deploy is one decision, and a no-op is one read of the Namespace.
"""
from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from tasks import images, tools
from tasks import k8s_deploy as kd
from tasks.creators import failing
from tasks.errors import StackError, user_errors
from tasks.model import Config
from tasks.paths import files_under
from tasks.run import Run


def cloud_envs(run: Run) -> Iterator[Config | dict[str, Any]]:
    """Each cloud Kubernetes environment's config; a broken one as a failing subtask."""
    for env, got in run.cloud_envs():
        if isinstance(got, StackError):
            yield failing(got, name=env)
        elif got.runtime == "kubernetes":
            yield got


def target(cfg: Config) -> kd.Target:
    assert cfg.cloud is not None
    return kd.Target.of(cfg, context=cfg.cloud["cluster_name"], registry=cfg.cloud["registry"])


def image_names(cfg: Config) -> list[str]:
    return [*cfg.services, *(d.name for d in cfg.placed("cluster") if d.build)]


def pushed_refs(cfg: Config) -> dict[str, str]:
    assert cfg.env is not None
    names = image_names(cfg)
    refs = images.refs(cfg.env, names)
    missing = [n for n in names if n not in refs]
    if missing:
        raise StackError(f"no pushed image recorded for {', '.join(missing)} in .build/{cfg.env}/images/",
                         fix=f"run `doit push:{cfg.env}` first")
    return refs


def deploy(cfg: Config) -> None:
    t = target(cfg)
    tools.require("kubectl")
    ns = kd.live_namespace(t)
    plan = kd.plan(t, pushed_refs(cfg), kd.secret_values(cfg, t, generate=False))
    kd.rollout(t, kd.apply(t, plan, ns))
    ns = kd.live_namespace(t)  # the apply may have created it: jobs are keyed by its UID
    for job in cfg.jobs():
        if not kd.job_current(t, job.name, ns):
            kd.run_job(t, job.name, partial(kd.namespace_uid, t))
    kd.smoke(t, [d.name for d in cfg.deployments()])


def smoke(cfg: Config, names: list[str]) -> None:
    kd.smoke(target(cfg), names)


def rollback(cfg: Config, names: list[str]) -> None:
    kd.rollback(target(cfg), names)


def current(cfg: Config) -> bool:
    t = target(cfg)
    try:
        ns = kd.live_namespace(t)
    except StackError:
        return False
    return kd.apply_current(t, ns) and all(kd.job_current(t, j.name, ns) for j in cfg.jobs())


def task_deploy(run: Run) -> Iterator[dict[str, Any]]:
    """Deploy a cloud environment: pinned images, rollout wait, rollback on failure, smoke check."""
    for cfg in cloud_envs(run):
        if isinstance(cfg, dict):
            yield cfg
            continue
        assert cfg.env is not None
        t = target(cfg)
        refs = [str(images.ref_file(cfg.env, n)) for n in image_names(cfg)]
        env_file = Path("compose") / cfg.env / ".env"
        yield {
            "name": cfg.env,
            "doc": f"Deploy {cfg.env} to {t.context} (images from {cfg.cloud['registry'] if cfg.cloud else ''}).",
            "actions": [(user_errors(deploy), [cfg])],
            # Only refs that exist: a missing one is reported by the action with its fix.
            "file_dep": [*(r for r in refs if Path(r).exists()),
                         *files_under("k8s/base", "k8s/components", str(t.overlay)),
                         *([str(env_file)] if env_file.exists() else [])],
            "uptodate": [(current, [cfg])],
            "task_dep": [f"push:{cfg.env}"],  # the registry must hold what we pin
            "verbosity": 2,
        }


def task_smoke(run: Run) -> Iterator[dict[str, Any]]:
    """Smoke-check a cloud environment (read-only): every Deployment rolled out and ready."""
    for cfg in cloud_envs(run):
        if isinstance(cfg, dict):
            yield cfg
            continue
        names = [d.name for d in cfg.deployments()]
        yield {"name": cfg.env, "doc": f"Smoke-check {cfg.env}.",
               "actions": [(user_errors(smoke), [cfg, names])],
               "uptodate": [False], "verbosity": 2}


def task_rollback(run: Run) -> Iterator[dict[str, Any]]:
    """Roll every Deployment of a cloud environment back to its previous revision."""
    for cfg in cloud_envs(run):
        if isinstance(cfg, dict):
            yield cfg
            continue
        names = [d.name for d in cfg.deployments()]
        yield {"name": cfg.env, "doc": f"Roll {cfg.env} back one revision.",
               "actions": [(user_errors(rollback), [cfg, names])],
               "uptodate": [False], "verbosity": 2}
