"""The Argo CD deploy target: a cloud environment with `deploy_mode: argocd`.

Argo CD deploys from Git, so this target applies nothing. Its `apply` refuses what the
kubectl path refuses before any apply (no release record, an image the registry lacks) and
a record whose kustomization (deploy/<env>/kustomization.yaml, what the Application syncs)
no longer pins what the record says; then it notes the commit to wait for: HEAD of this
checkout, the commit the record is deployed from. `wait` reads the Application
(k8s/overlays/<env>/argocd-application.yaml, applied once to the cluster) until it reports
Synced and Healthy at that commit. A Degraded Application fails with Argo CD's message and
each unhealthy workload's diagnosis, in the engine's one summary (tasks/ops/targets/rollout.py),
as the kubectl path's failures are; so does a timeout. Nothing is rolled back here: Argo CD
owns the cluster, and the way back is a revert commit of the record.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.errors import StackError
from tasks.model import ARGOCD_APPLICATION, Config
from tasks.ops import k8s_deploy as kd
from tasks.ops import k8s_health as health
from tasks.ops import release_record
from tasks.ops.deploy_record import Outcome
from tasks.ops.targets.base import Failure, Row
from tasks.output import console
from tasks.programs import git, kubectl

KIND = "applications.argoproj.io"
POLL_SECONDS = 2.0


@dataclass(frozen=True)  # gremlin: pardon[equivalent] nothing assigns to a Status or hashes one
class Status:
    """What an Application reports: sync status, health status, synced revision, messages."""

    sync: str
    health: str
    revision: str
    messages: tuple[str, ...]
    unhealthy: tuple[str, ...]  # "<kind>/<name>: <health> <message>" of each unhealthy resource

    def at(self, revision: str) -> bool:
        return self.sync == "Synced" and self.health == "Healthy" and self.revision == revision


def status_of(app: dict[str, Any]) -> Status:
    st = app.get("status") or {}
    sync, hl = st.get("sync") or {}, st.get("health") or {}
    op = st.get("operationState") or {}
    messages = [hl.get("message"), op.get("message"), *(c.get("message") for c in st.get("conditions") or [])]
    unhealthy = [
        f"{r.get('kind')}/{r.get('name')}: {h.get('status')} {h.get('message', '')}".rstrip()
        for r in st.get("resources") or []
        if (h := r.get("health") or {}).get("status") not in (None, "Healthy")
    ]
    return Status(
        str(sync.get("status", "Unknown")),
        str(hl.get("status", "Unknown")),
        str(sync.get("revision", "")),
        tuple(str(m) for m in messages if m),
        tuple(unhealthy),
    )


@dataclass
class ArgoTarget:
    cfg: Config
    t: kd.Target
    poll: float = POLL_SECONDS
    revision: str = ""

    @property
    def env(self) -> str:
        return self.t.env

    @property
    def name(self) -> str:
        return self.cfg.application_name()

    @property
    def scope(self) -> kubectl.Scope:
        assert self.cfg.cloud is not None and self.cfg.cloud.argocd is not None
        return kubectl.Scope(self.t.context, self.cfg.cloud.argocd.namespace)

    @property
    def label(self) -> str:
        return f"Argo CD Application {self.scope.namespace}/{self.name} (cluster {self.t.context})"

    def fix(self) -> str:
        record = release_record.path(self.env).as_posix()
        return (
            f"fix the cause shown, commit and push it (or revert {record}), "
            f"then run `doit deploy:{self.env}` again (it waits for the Application again)"
        )

    # ------------------------------------------------------------------ protocol

    def apply(self) -> None:
        """Apply nothing: check what the kubectl path checks before an apply, then note the commit."""
        assert self.cfg.cloud is not None
        env = self.env
        release_record.pinned(env, self.cfg.cloud.registry, self.cfg.cluster_images())
        record = release_record.required(env, how=release_record.how(env))
        pins = release_record.kustomization_path(env)
        if not pins.is_file() or pins.read_text(encoding="utf-8") != release_record.kustomization(record):
            raise StackError(
                f"{pins.as_posix()} does not pin what {release_record.path(env).as_posix()} says "
                "(Argo CD syncs the first); nothing was deployed",
                fix=f"restore both with `git checkout -- deploy/{env}/`, or write them together "
                f"(`doit push:{env}` or `doit promote from=<env> to={env}`), then commit and push",
            )
        head = git.head(Path())
        if head is None:
            raise StackError(
                "argocd mode waits for the commit this checkout is at, but git names none",
                fix="run the deploy from a git checkout of the repository Argo CD syncs",
            )
        pending = git.uncommitted(Path(), release_record.path(env), pins)
        if pending:
            raise StackError(
                f"{', '.join(pending)} not committed: Argo CD syncs commit "
                f"{head.removesuffix('-dirty')[:12]}, which does not hold this record; nothing was deployed",
                fix=f"commit and push deploy/{env}/, then run `doit deploy:{env}` again",
            )
        if head.endswith("-dirty"):
            console.note("this checkout has uncommitted changes: Argo CD syncs only what is pushed")
        self.revision = head.removesuffix("-dirty")
        console.step(
            f"argocd mode: nothing applied here; {self.label} syncs {self.revision[:12]} "
            f"(k8s/overlays/{env}/{ARGOCD_APPLICATION})"
        )

    def look(self) -> Status | None:
        app = kubectl.get_json(self.scope, KIND, self.name)
        if app is not None:
            return status_of(app)
        if not kubectl.reachable(self.t.context):
            raise StackError(
                f"the Kubernetes API of cluster {self.t.context} is unreachable",
                fix=f"run `doit kubeconfig:{self.env}` and check that this machine reaches the cluster",
            )
        return None

    def wait(self) -> list[Failure]:
        timeout = self.t.rollout_timeout
        console.step(
            f"waiting for {self.label}: Synced and Healthy at {self.revision[:12]}, {timeout}s at most"
        )
        start = time.monotonic()
        while True:
            got = self.look()
            if got is None:
                return [self._failure("missing", ['    apply it once: see docs/cloud.md, "Argo CD"'])]
            if got.at(self.revision):
                console.step(f"{self.label}: Synced and Healthy at {self.revision[:12]}")
                return []
            if got.health == "Degraded" and got.revision == self.revision:
                return [self._failure("Degraded", self._detail(got)), *self._workloads()]
            if time.monotonic() - start >= timeout:
                reason = (
                    f"not Synced and Healthy at {self.revision[:12]} after {int(time.monotonic() - start)}s"
                )
                return [self._failure(reason, self._detail(got)), *self._workloads()]
            time.sleep(self.poll)

    def _failure(self, reason: str, detail: list[str]) -> Failure:
        return Failure(f"application/{self.name}", reason, detail)

    def _detail(self, got: Status) -> list[str]:
        seen = f"    sync {got.sync}, health {got.health}, revision {got.revision[:12] or '(none)'}"
        return [
            seen,
            *(f"    message: {m}" for m in got.messages),
            *(f"    {r}" for r in got.unhealthy),
        ]

    def _workloads(self) -> list[Failure]:
        """Each workload that is not ready, diagnosed as the kubectl path does (pod reason,
        last events, log tail)."""
        seen = health.look(self.t.scope, self._keys())
        return [
            Failure(h.ref, h.reason or h.state, health.diagnose(self.t.scope, h))
            for h in seen.values()
            if h.state not in ("ready", "missing")
        ]

    def _keys(self) -> list[tuple[str, str]]:
        keys = [("Deployment", d.name) for d in self.cfg.deployments()]
        return keys + [("StatefulSet", d.name) for d in self.cfg.placed("cluster")]

    def roll_back(self, failures: list[Failure]) -> dict[str, str]:
        self.t.record.set_outcome(
            Outcome(ok=False, restored=False, failed=sorted(f.workload for f in failures))
        )
        note = (
            f"not rolled back: Argo CD deploys from Git (revert {release_record.path(self.env).as_posix()} "
            "and push to go back)"
        )
        return {f.workload: note for f in failures}

    def record(self) -> None:
        assert self.cfg.cloud is not None
        refs = release_record.recorded(self.env, self.cfg.cloud.registry)
        self.t.record.set_release(self.env, refs, self.t.registry)
        self.t.record.set_outcome(Outcome(ok=True, restored=False, failed=[]))

    def jobs(self) -> list[str]:
        return [j.name for j in self.cfg.jobs()]

    def status(self) -> list[Row]:
        got = self.look()
        head = (git.head(Path()) or "").removesuffix("-dirty")
        if got is None:
            app = Row(f"application/{self.name}", "-", "-", "-", "no", "stale", "not found")
        else:
            ok = got.at(head)
            note = "" if ok else f"{got.sync}, {got.health} at {got.revision[:12] or '(none)'}"
            app = Row(
                f"application/{self.name}",
                "-",
                "-",
                got.revision[:12],
                "yes" if ok else "no",
                "ok" if ok else ("failed" if got.health == "Degraded" else "stale"),
                note,
            )
        rows = [app]
        for h in health.look(self.t.scope, self._keys()).values():
            verdict = {"ready": "ok", "missing": "stale"}.get(h.state, "failed")
            rows.append(
                Row(h.ref, str(h.desired), str(h.ready), " ".join(h.images) or "-", "-", verdict, h.reason)
            )
        return rows


def cloud(cfg: Config) -> ArgoTarget:
    assert cfg.cloud is not None
    return ArgoTarget(cfg, kd.Target.of(cfg, context=cfg.cloud.cluster_name, registry=cfg.cloud.registry))
