"""Cloud deploy operations (environments with a `cloud:` block): deploy, smoke-check, roll
back to the known-good release, and the checks doit asks.

The deploy is the engine (tasks/ops/targets/rollout.py) on the target the registry picks
(tasks/ops/targets/registry.py: the Kubernetes target of the cloud cluster); the release
records are the environment's deploy record (tasks/ops/deploy_record.py). Rolling back
re-applies the known-good release the last deploy replaced, never a relative
`rollout undo`: after a deploy that already undid its own failure it changes nothing.
"""

from __future__ import annotations

from tasks.errors import StackError
from tasks.model import Config
from tasks.ops import k8s_deploy as kd
from tasks.ops import release_record
from tasks.ops.targets import kubernetes, registry, rollout
from tasks.output import console
from tasks.programs import kubectl


def target(cfg: Config) -> kd.Target:
    """Where this environment deploys: its cluster, namespace and registry."""
    return kubernetes.cloud(cfg).t


def deploy(cfg: Config) -> None:
    """Apply what changed, wait for everything, roll back on failure, then smoke-check."""
    kubectl.require()
    rollout.converge(registry.for_config(cfg))
    smoke(cfg)


def smoke(cfg: Config) -> None:
    """Every Deployment rolled out and ready (read-only)."""
    kd.smoke(target(cfg), [d.name for d in cfg.deployments()])


def rollback(cfg: Config) -> None:
    """Re-apply the known-good release the last deploy replaced."""
    kubectl.require()
    assert cfg.cloud is not None
    if cfg.cloud.deploy_mode == "argocd":
        raise StackError(
            f"{cfg.env} deploys through Argo CD (deploy_mode: argocd): a rollback here would be "
            "undone by its next sync",
            fix=f"revert the commit of {release_record.path(cfg.env).as_posix()}, push it, and run "
            f"`doit deploy:{cfg.env}` (it waits for Argo CD to sync the revert)",
        )
    tgt = kubernetes.cloud(cfg)
    tgt.remember = False
    known = tgt.t.record.known_good()
    if known is None:
        raise StackError(
            f"no known-good release recorded for {cfg.env} ({tgt.t.record.known_good_file} is missing)",
            fix=f"a successful `doit deploy:{cfg.env}` records the release it replaces; to go back "
            f"to an earlier committed release, revert {release_record.path(cfg.env).as_posix()} and "
            f"run `doit deploy:{cfg.env}`",
        )
    console.step(
        f"re-applying the known-good release of {cfg.env}: "
        + ", ".join(f"{k}={v.rsplit(':', 1)[-1][:12]}" for k, v in sorted(known.refs.items()))
    )
    tgt.apply(known.refs)
    rollout.finish(tgt)


def current(cfg: Config) -> bool:
    """Up to date: the cluster carries the applied hash, every job completed, and what it
    last ran healthy is what this deploy would pin."""
    t = target(cfg)
    # After a rollback the cluster is healthy and carries its hash, but runs the older release.
    healthy = t.record.release()
    if healthy is None or healthy.refs != _recorded(cfg):
        return False
    ns = kd.live_namespace(t)  # None when unreachable: then nothing below is current
    return kd.apply_current(t, ns) and all(kd.job_current(t, j.name, ns) for j in cfg.jobs())


def restored(cfg: Config) -> None:
    """Succeeds only when the last deploy failed and undid its own failure completely."""
    outcome = target(cfg).record.outcome()
    if outcome is None or not outcome.restored:
        if outcome is None:
            state = "recorded no outcome"
        elif outcome.ok:
            state = "succeeded"
        else:
            state = "left " + ", ".join(outcome.failed) + " failing"
        raise StackError(
            f"the last deploy of {cfg.env} did not restore the previous release: it {state}",
            fix=f"`doit rollback:{cfg.env}` re-applies the known-good release",
        )
    console.step(f"the last deploy of {cfg.env} failed and restored the previous release itself")


def _recorded(cfg: Config) -> dict[str, str]:
    assert cfg.cloud is not None
    return release_record.recorded(cfg.env, cfg.cloud.registry)
