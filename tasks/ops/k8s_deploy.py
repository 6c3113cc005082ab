"""Deploying an overlay to a cluster: plan, apply and jobs, for tasks/ops/targets/kubernetes.py
(the Kubernetes target of the deploy engine in tasks/ops/targets/rollout.py).

  plan     write the deploy record's kustomization.yaml (the committed overlay plus
           `images:` pinned to content tags), build it with `kubectl kustomize`, hash it.
  apply    `kubectl apply -f` everything but Jobs, with the hash as an annotation on
           the Namespace only (commonAnnotations would change every pod template and
           roll every pod). Skipped when the hash is recorded as healthy and the cluster
           carries it. Then Jobs whose inputs changed are deleted and re-applied (they are
           immutable). The record's pending step lists what the wait must see healthy.

The wait, rollback and recording live in tasks/ops/targets/kubernetes.py and
tasks/ops/k8s_health.py; every file kept in .build/<env>/deploy/ is
tasks/ops/deploy_record.py's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets as pysecrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tasks.errors import StackError
from tasks.model import Config
from tasks.ops import kustomize_order, kustomize_slices, kyaml
from tasks.ops.deploy_record import Pending, Record
from tasks.output import console
from tasks.programs import kubectl
from tasks.store import envfile, state

# libyaml when PyYAML has it: a deploy reads every document of the overlay.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Doc = dict[str, Any]
ANNOTATION = "stackbuild.dev/applied-hash"
WORKLOADS = ("Deployment", "StatefulSet")


@dataclass(frozen=True)  # gremlin: pardon[equivalent] nothing assigns to a Target or hashes one
class Target:
    """Where one environment deploys to."""

    env: str
    context: str  # kubectl context: the Minikube profile, or the cloud cluster name
    namespace: str
    project: str
    rollout_timeout: int
    registry: str | None = None  # cloud: images are pulled from <registry>/<repo>:<tag>

    @property
    def overlay(self) -> Path:
        return Path("k8s/overlays") / self.env

    @property
    def state(self) -> Path:
        return state.deploy_dir(self.env)

    @property
    def record(self) -> Record:
        return Record(self.state)

    @property
    def scope(self) -> kubectl.Scope:
        return kubectl.Scope(self.context, self.namespace)

    @classmethod
    def of(cls, cfg: Config, context: str, registry: str | None = None) -> Target:
        return cls(
            env=cfg.env,
            context=context,
            namespace=cfg.namespace,
            project=cfg.project,
            rollout_timeout=cfg.timeouts["rollout"],
            registry=registry,
        )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _dump(docs: list[Doc]) -> str:
    return kyaml.dump_all(docs, sort_keys=True)


# --------------------------------------------------------------------------- secrets


def secret_values(cfg: Config, t: Target, generate: bool) -> dict[str, str] | None:
    """Values for `<project>-secrets`: compose/<env>/.env first, else random ones kept in
    .build/<env>/deploy/secrets.env (git-ignored). None: not managed here (a cloud
    environment's come from AWS Secrets Manager through the External Secrets Operator)."""
    wanted = list(cfg.secrets)
    if not wanted or cfg.cloud is not None:
        # A cloud environment's Secret is the External Secrets Operator's (its ExternalSecret
        # in the overlay, from AWS Secrets Manager): a local .env must not write over it.
        return None
    given = envfile.read_secrets(Path("compose") / t.env / ".env", t.env, wanted)
    if all(k in given for k in wanted):
        return {k: given[k] for k in wanted}
    if not generate:
        return None
    kept = envfile.read(t.record.secrets_file, environ={})  # the tool's own file, read as written
    values = {k: given.get(k) or kept.get(k) or pysecrets.token_urlsafe(24) for k in wanted}
    t.record.write_secrets("".join(f"{k}={v}\n" for k, v in values.items() if k not in given))
    return values


def secret_manifest(t: Target, values: Mapping[str, str]) -> Doc:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": f"{t.project}-secrets",
            "namespace": t.namespace,
            "labels": {"app.kubernetes.io/part-of": t.project},
        },
        "stringData": dict(sorted(values.items())),
    }


def fingerprint(t: Target, values: Mapping[str, str] | None) -> str:
    """Changes with the secret values, but reveals nothing about them: the hash ends up in
    a Namespace annotation, so it is keyed with a random local key, not a bare sha256."""
    if values is None:
        return ""
    return hmac.new(
        t.record.fingerprint_key(), json.dumps(values, sort_keys=True).encode(), "sha256"
    ).hexdigest()


# --------------------------------------------------------------------------- plan


def image_entries(refs: Mapping[str, str], registry: str | None) -> list[Doc]:
    """kustomize `images:` entries pinning each repo to its content tag, or to its digest for a
    `repo@sha256:...` reference (a cloud environment's release record), with no text edits."""
    entries: list[Doc] = []
    for ref in sorted(refs.values()):
        repo, pin = (ref.split("@", 1)[0], {"digest": ref.split("@", 1)[1]}) if "@" in ref else _tagged(ref)
        if registry:
            # The cloud overlay already renames repo -> <registry>/<repo>; match both spellings.
            entries.append({"name": repo, "newName": f"{registry}/{repo}", **pin})
            entries.append({"name": f"{registry}/{repo}", **pin})
        else:
            entries.append({"name": repo, **pin})
    return entries


def _tagged(ref: str) -> tuple[str, dict[str, str]]:
    repo, tag = ref.rsplit(":", 1)
    return repo, {"newTag": tag}


def write_kustomization(t: Target, refs: Mapping[str, str]) -> Path:
    doc = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(t.overlay, t.state)],
        "images": image_entries(refs, t.registry),
    }
    return t.record.write_kustomization(
        "# Written by stackbuild at deploy time; not committed.\n" + kyaml.dump(doc)
    )


def containers(doc: Doc) -> list[Doc]:
    spec = ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
    return list(spec.get("containers") or []) + list(spec.get("initContainers") or [])


def check_pinned(docs: list[Doc], refs: Mapping[str, str], registry: str | None) -> None:
    """Every recorded image must appear, with its tag: a renamed repo would otherwise
    silently deploy `:latest`."""
    used = {c.get("image", "") for d in docs for c in containers(d)}
    want = {f"{registry}/{ref}" if registry else ref for ref in refs.values()}
    missing = sorted(want - used)
    if missing:
        raise StackError(
            f"the built manifests do not use {', '.join(missing)}",
            fix="check that k8s/overlays and the image prefix agree (run `doit render`)",
        )


@dataclass(frozen=True)  # gremlin: pardon[equivalent] nothing assigns to a Plan or hashes one
class Plan:
    hash: str
    main: list[Doc]  # everything but Jobs, Namespace annotated with the hash
    jobs: dict[str, Doc]
    job_inputs: dict[str, str]  # job -> hash of what it depends on
    secret: Doc | None


def plan(t: Target, refs: Mapping[str, str], secrets: Mapping[str, str] | None) -> Plan:
    # The record's kustomization is what was applied (build it to see); the build itself goes
    # in slices, each kept by its inputs, so one changed image or replica count rebuilds one
    # slice instead of the whole overlay, which kustomize builds in time quadratic in its size.
    folder = write_kustomization(t, refs)
    pins = image_entries(refs, t.registry)
    built = kustomize_slices.build(str(t.overlay), t.env, pins=pins, whole=str(folder.parent))
    # In kustomize's own order: the hash and the apply are those of the whole build.
    docs = kustomize_order.ordered(
        [d for d in yaml.load_all(built.text, Loader=LOADER) if isinstance(d, dict)]
    )
    check_pinned(docs, refs, t.registry)
    fp = fingerprint(t, secrets)
    digest = _digest(_dump(docs) + fp)
    jobs = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Job"}
    main = [d for d in docs if d.get("kind") != "Job"]
    ns = [d for d in main if d.get("kind") == "Namespace" and d["metadata"].get("name") == t.namespace]
    if not ns:
        raise StackError(
            f"k8s/overlays/{t.env} has no Namespace {t.namespace!r}",
            fix="run `doit render` (the base always declares the namespace)",
        )
    ns[0]["metadata"].setdefault("annotations", {})[ANNOTATION] = digest
    # A Job re-runs when its own manifest (image tag included), the config it reads or
    # the secret changes: ConfigMaps are the only other objects it consumes.
    config = _dump([d for d in main if d.get("kind") == "ConfigMap"])
    inputs = {name: _digest(_dump([job]) + config + fp) for name, job in jobs.items()}
    return Plan(digest, main, jobs, inputs, secret_manifest(t, secrets) if secrets else None)


# --------------------------------------------------------------------------- live state


def live_namespace(t: Target) -> Doc | None:
    """One read: the Namespace with its annotation and UID (None: missing or unreachable)."""
    try:
        return kubectl.get_json(t.scope, "namespace", t.namespace, namespaced=False)
    except StackError:  # kubectl missing, or a timeout: as good as unreachable here
        return None


def annotation_of(ns: Doc | None) -> str | None:
    value = ((ns or {}).get("metadata") or {}).get("annotations", {}).get(ANNOTATION)
    return str(value) if value else None


def uid_of(ns: Doc | None) -> str | None:
    uid = ((ns or {}).get("metadata") or {}).get("uid")
    return str(uid) if uid else None


def namespace_uid(t: Target) -> str | None:
    return uid_of(live_namespace(t))


def apply_current(t: Target, ns: Doc | None) -> bool:
    """Up to date: the last hash that rolled out is what the cluster carries, nothing pending."""
    done = t.record.applied_hash()
    return bool(done) and annotation_of(ns) == done and not t.record.is_pending()


# --------------------------------------------------------------------------- steps


def workloads(p: Plan) -> list[tuple[str, str]]:
    return [(str(d["kind"]), str(d["metadata"]["name"])) for d in p.main if d.get("kind") in WORKLOADS]


def apply(t: Target, p: Plan, ns: Doc | None, refs: Mapping[str, str] | None = None) -> list[str]:
    """Apply unless unchanged, start the Jobs whose inputs changed, and record what is
    pending: what the wait step must see healthy before anything is recorded as applied.
    Returns the workloads the apply changed."""
    for name, job in p.jobs.items():
        t.record.set_job(name, _dump([job]), p.job_inputs[name])
    changed: list[str] = []
    if p.hash == t.record.applied_hash() and annotation_of(ns) == p.hash:
        console.step(f"{t.namespace}: manifests unchanged ({p.hash[:12]}), nothing to apply")
    else:
        path = t.record.write_manifests(_dump(p.main))
        done = kubectl.apply(t.scope, str(path), namespaced=False)
        console.show("\n".join(f"  {a.line}" for a in done if a.action != "unchanged"))
        if p.secret is not None:
            # On stdin: secret values are never written to a file kubectl reads.
            kubectl.apply_text(t.scope, kyaml.dump(p.secret, sort_keys=True))
        changed = [a.ref for a in done if a.kind in ("deployment", "statefulset") and a.changed]
        ns = live_namespace(t)  # the apply may have created it: jobs are keyed by its UID
    started = [name for name in p.jobs if not job_current(t, name, ns)]
    for name in started:
        start_job(t, name)
    # Every workload of the plan is waited for, not only the changed ones: a workload that
    # failed on a first deploy is "unchanged" on the next run and must still be checked.
    t.record.set_pending(Pending(p.hash, workloads(p), started, changed, dict(refs or {})))
    return changed


def start_job(t: Target, name: str) -> None:
    manifest = t.record.job_manifest(name)
    if not manifest.exists():
        raise StackError(f"no manifest for job {name}", fix="run the apply step first")
    kubectl.delete(t.scope, "job", name)  # Jobs are immutable
    kubectl.apply(t.scope, str(manifest))
    console.step(f"job/{name} started")


def job_current(t: Target, name: str, ns: Doc | None) -> bool:
    """Done for these inputs, in this very namespace (a recreated one has a new UID)."""
    done = t.record.job_done(name)
    want = t.record.job_inputs(name)
    uid = uid_of(ns)
    return bool(want) and uid is not None and done.inputs == want and done.ns_uid == uid


def deployments_ready(t: Target) -> dict[str, tuple[int, int]]:
    """name -> (ready, wanted). Zero counters are omitted by the API: read with defaults."""
    return {
        d["metadata"]["name"]: (
            int(d.get("status", {}).get("readyReplicas", 0)),
            int(d.get("spec", {}).get("replicas", 1)),
        )
        for d in kubectl.items(t.scope, "deployments")
    }


def smoke(t: Target, names: list[str]) -> None:
    """After a deploy: every Deployment rolled out and fully ready."""
    ready = deployments_ready(t)
    short = {n: r for n, r in ready.items() if n in names and r[0] < r[1]}
    absent = [n for n in names if n not in ready]
    if short or absent:
        detail = ", ".join(
            [f"{n} {r[0]}/{r[1]}" for n, r in short.items()] + [f"{n} missing" for n in absent]
        )
        raise StackError(
            f"smoke check failed: {detail}", fix=f"`kubectl --context {t.context} -n {t.namespace} get pods`"
        )
    console.step(f"smoke check: {len(names)} deployments ready")
