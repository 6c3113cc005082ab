"""The Kubernetes deploy target (Minikube and the cloud clusters): tasks/ops/targets/base.py's
protocol on top of tasks/ops/k8s_deploy.py (plan, apply, jobs) and tasks/ops/k8s_health.py
(one joint wait, diagnosis).

What it keeps (pending, applied, outcome, releases) is the environment's deploy record,
tasks/ops/deploy_record.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from tasks.errors import StackError
from tasks.model import Config
from tasks.ops import k8s_deploy as kd
from tasks.ops import k8s_health as health
from tasks.ops import release_record
from tasks.ops.deploy_record import Outcome
from tasks.ops.targets.base import Failure, Row, job_note
from tasks.output import console
from tasks.programs import kubectl
from tasks.store import devstate, images


@dataclass
class KubeTarget:
    cfg: Config
    t: kd.Target
    refs: Callable[[], dict[str, str]]  # name -> repo:tag to deploy
    recorded: Callable[[], dict[str, str]]  # name -> repo:tag recorded (never raises)
    generate_secrets: bool
    command: str  # what the user runs to deploy again, for the fix line
    label: str
    remember: bool = True  # a deploy remembers the release it replaces; a rollback does not
    reach_fix: str = "check that the cluster is running and that kubectl reaches it"
    _ns: dict[str, Any] | None = field(default=None, repr=False)
    _failed: dict[str, health.Health] = field(default_factory=dict, repr=False)

    @property
    def env(self) -> str:
        return self.t.env

    def fix(self) -> str:
        return (
            f"fix the cause shown for each workload, then run `{self.command}` again "
            f"(it waits for every unhealthy workload again)"
        )

    # ------------------------------------------------------------------ protocol

    def apply(self, refs: Mapping[str, str] | None = None) -> None:
        refs = dict(refs if refs is not None else self.refs())
        ns = kd.live_namespace(self.t)
        if self.remember and kd.apply_current(self.t, ns):
            self.t.record.remember_replaced(refs)
        plan = kd.plan(self.t, refs, kd.secret_values(self.cfg, self.t, generate=self.generate_secrets))
        kd.apply(self.t, plan, ns, refs)

    def wait(self) -> list[Failure]:
        pending = self.t.record.pending()
        keys = [*pending.workloads, *(("Job", j) for j in pending.jobs)]
        if not keys:
            return []
        console.step(f"waiting for {len(keys)} workload(s), {self.t.rollout_timeout}s at most")
        start = time.monotonic()
        seen = health.wait(self.t.scope, keys, start + self.t.rollout_timeout)
        took = time.monotonic() - start
        uid = kd.namespace_uid(self.t)
        for job in pending.jobs:
            if seen[("Job", job)].state == "ready":
                self.t.record.set_job_done(job, uid)
        failed = [h for h in seen.values() if h.state != "ready"]
        for h in seen.values():
            if h.state == "ready" and (h.kind == "Job" or h.ref in pending.changed):
                console.step(f"{h.ref} ready")
        if failed:
            console.step(f"{len(failed)} of {len(keys)} workload(s) failed ({took:.1f}s)")
        self._failed = {h.ref: h for h in failed}
        # Diagnose before any undo, which replaces the failing pods.
        return [Failure(h.ref, h.reason or h.state, health.diagnose(self.t.scope, h)) for h in failed]

    def roll_back(self, failures: list[Failure]) -> dict[str, str]:
        notes: dict[str, str] = {}
        undone: list[tuple[str, str]] = []
        for f in failures:
            h = self._failed.get(f.workload)
            if h is None or h.kind != "Deployment":
                notes[f.workload] = (
                    "a failed job is not rolled back; it runs again next time"
                    if h and h.kind == "Job"
                    else "not rolled back (only Deployments keep revisions here)"
                )
            elif h.revision <= 1:
                notes[f.workload] = "first revision, nothing to roll back to: it stays failed until fixed"
            else:
                kubectl.rollout_undo(self.t.scope, h.name)
                undone.append(h.key)
        if undone:
            after = health.wait(self.t.scope, undone, time.monotonic() + self.t.rollout_timeout)
            for h in after.values():
                notes[h.ref] = (
                    "rolled back to the previous revision, which is ready"
                    if h.state == "ready"
                    else f"rolled back, but the previous revision is not ready either ({h.reason})"
                )
        restored = bool(failures) and all(n.startswith("rolled back to") for n in notes.values())
        self.t.record.set_outcome(Outcome(ok=False, restored=restored, failed=sorted(notes)))
        self.t.record.clear_pending()
        return notes

    def record(self) -> None:
        pending = self.t.record.pending()
        if pending.hash is not None:
            self.t.record.set_applied(pending.hash)
            self.t.record.set_release(self.env, pending.refs, self.t.registry)
        self.t.record.set_outcome(Outcome(ok=True, restored=False, failed=[]))
        self.t.record.clear_pending()
        # Pods of a new image no longer hold what live sync copied into the old ones.
        deployed = {
            name: f"{self.t.registry}/{ref}" if self.t.registry else ref
            for name, ref in self.recorded().items()
        }
        devstate.forget_syncs(self.env, deployed)

    def jobs(self) -> list[str]:
        return [j.name for j in self.cfg.jobs()]

    def status(self) -> list[Row]:
        ns = kd.live_namespace(self.t)
        if ns is None and not kubectl.reachable(self.t.context):
            # An absent namespace means "not deployed"; a cluster that does not answer says
            # nothing about the workloads, so every row "not deployed" would be a false answer.
            raise StackError(
                f"the Kubernetes API of {self.label} is unreachable, so no workload can be read",
                fix=self.reach_fix,
            )
        applied = kd.apply_current(self.t, ns)
        wanted = [("Deployment", d.name) for d in self.cfg.deployments()]
        wanted += [("StatefulSet", d.name) for d in self.cfg.placed("cluster")]
        jobs = [("Job", j) for j in self.jobs()]
        seen = health.look(self.t.scope, wanted + jobs) if ns is not None else {}
        refs = self.recorded()
        rows = []
        for kind, name in wanted + jobs:
            h = seen.get((kind, name))
            want = refs.get(name)
            want_image = f"{self.t.registry}/{want}" if want and self.t.registry else want
            image = " ".join(h.images) if h and h.images else (want_image or "-")
            done = kd.job_current(self.t, name, ns) if kind == "Job" else applied
            if kind == "Job" and done:
                verdict, note = "ok", job_note(True, h.finished if h else "")
            elif h is None or h.state == "missing":
                verdict, note = "stale", "not deployed"
            elif kind == "Job" and h.state == "failed":
                verdict, note = "failed", job_note(False, h.finished, h.reason)
            elif h.state == "failed" or (kind != "Job" and h.ready < h.desired):
                verdict, note = "failed", h.reason or "not ready"
            elif want_image and want_image not in h.images:
                verdict, note = "stale", f"recorded image is {want_image}"
            elif not done:
                verdict, note = "stale", "not recorded as applied"
            else:
                verdict, note = "ok", ""
            rows.append(
                Row(
                    f"{kind.lower()}/{name}",
                    str(h.desired if h else "-"),
                    str(h.ready if h else "-"),
                    image,
                    "yes" if done else "no",
                    verdict,
                    note,
                )
            )
        return rows


def _env_arg(cfg: Config, default: str) -> str:
    return "" if cfg.env == default else f" env={cfg.env}"


def minikube(cfg: Config) -> KubeTarget:
    env = cfg.env
    t = kd.Target.of(cfg, cfg.minikube.profile)
    folder = "minikube_images"

    def refs() -> dict[str, str]:
        names = cfg.cluster_images()
        found = images.refs(env, names, folder)
        missing = [n for n in names if n not in found]
        if missing:
            raise StackError(f"no image recorded for {', '.join(missing)}", fix="run `doit minikube_up`")
        return found

    return KubeTarget(
        cfg,
        t,
        refs,
        partial(images.refs, env, cfg.cluster_images(), folder),
        True,
        f"doit minikube_up{_env_arg(cfg, 'minikube')}",
        f"Minikube profile {t.context}, namespace {t.namespace}",
        reach_fix=f"start the cluster with `doit minikube_up{_env_arg(cfg, 'minikube')}`",
    )


def cloud(cfg: Config) -> KubeTarget:
    assert cfg.cloud is not None
    env, registry = cfg.env, cfg.cloud.registry
    t = kd.Target.of(cfg, context=cfg.cloud.cluster_name, registry=registry)
    # Exactly what the committed release record says, each digest checked in the registry first.
    return KubeTarget(
        cfg,
        t,
        partial(release_record.pinned, env, registry, cfg.cluster_images()),
        partial(release_record.recorded, env, registry),
        False,
        f"doit deploy:{env} env={env}",
        f"cluster {t.context}, namespace {t.namespace}",
        reach_fix=f"run `doit kubeconfig:{env}` and check that this machine reaches cluster {t.context}",
    )
