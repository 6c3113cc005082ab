"""Deploying an overlay to a cluster: plan, apply and jobs, for tasks/ops/k8s_target.py (the
Kubernetes target of the deploy engine in tasks/ops/targets.py).

  plan     write .build/<env>/deploy/kustomization.yaml (the committed overlay plus
           `images:` pinned to content tags), build it with `kubectl kustomize`, hash it.
  apply    `kubectl apply -f` everything but Jobs, with the hash as an annotation on
           the Namespace only (commonAnnotations would change every pod template and
           roll every pod). Skipped when the hash is recorded as healthy and the cluster
           carries it. Then Jobs whose inputs changed are deleted and re-applied (they are
           immutable). pending.json lists what the wait step must see healthy.

The wait, rollback and recording live in tasks/ops/k8s_target.py and tasks/ops/k8s_health.py.
State lives in .build/<env>/deploy/ (git-ignored): applied.json (last hash seen healthy),
pending.json (applied, not yet seen healthy), jobs/<name>.{yaml,json,done}.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets as pysecrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tasks.errors import StackError
from tasks.model import Config
from tasks.programs import kubectl as kubectl_cli
from tasks.programs import tools
from tasks.store import atomic, envfile, state

Doc = dict[str, Any]
ANNOTATION = "stackbuild.dev/applied-hash"
_CHANGED = re.compile(r"^(deployment|statefulset)\.apps/(\S+) (created|configured)")
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


def kubectl(t: Target, *args: str, ns: bool = True, **kw: Any) -> tools.Result:
    return kubectl_cli.run(t.context, *args, namespace=t.namespace if ns else None, **kw)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, text: str, mode: int | None = None) -> None:
    """Atomic, and untouched when equal (so md5 file_deps downstream don't move); a 0600
    file is 0600 from its first byte."""
    atomic.write_text(path, text, secret=mode == 0o600)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _dump(docs: list[Doc]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=True)


# --------------------------------------------------------------------------- secrets


def secret_values(cfg: Config, t: Target, generate: bool) -> dict[str, str] | None:
    """Values for `<project>-secrets`: compose/<env>/.env first, else random ones kept in
    .build/<env>/deploy/secrets.env (git-ignored). None: not managed here (cloud secrets
    without an .env are created out of band)."""
    wanted = list(cfg.secrets)
    if not wanted:
        return None
    given = envfile.read_secrets(Path("compose") / t.env / ".env", t.env, wanted)
    if all(k in given for k in wanted):
        return {k: given[k] for k in wanted}
    if not generate:
        return None
    store = t.state / "secrets.env"
    kept = envfile.read(store)
    values = {k: given.get(k) or kept.get(k) or pysecrets.token_urlsafe(24) for k in wanted}
    _write(store, "".join(f"{k}={v}\n" for k, v in values.items() if k not in given), mode=0o600)
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


def _fingerprint(t: Target, values: Mapping[str, str] | None) -> str:
    """Changes with the secret values, but reveals nothing about them: the hash ends up in
    a Namespace annotation, so it is keyed with a random local key, not a bare sha256."""
    if values is None:
        return ""
    key_file = t.state / ".fingerprint-key"
    if not key_file.exists():
        _write(key_file, pysecrets.token_hex(32), mode=0o600)
    return hmac.new(key_file.read_bytes(), json.dumps(values, sort_keys=True).encode(), "sha256").hexdigest()


# --------------------------------------------------------------------------- plan


def image_entries(refs: Mapping[str, str], registry: str | None) -> list[Doc]:
    """kustomize `images:` entries pinning each repo to its content tag (no text edits)."""
    entries: list[Doc] = []
    for ref in sorted(refs.values()):
        repo, tag = ref.rsplit(":", 1)
        if registry:
            # The cloud overlay already renames repo -> <registry>/<repo>; match both spellings.
            entries.append({"name": repo, "newName": f"{registry}/{repo}", "newTag": tag})
            entries.append({"name": f"{registry}/{repo}", "newTag": tag})
        else:
            entries.append({"name": repo, "newTag": tag})
    return entries


def write_kustomization(t: Target, refs: Mapping[str, str]) -> Path:
    doc = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(t.overlay, t.state)],
        "images": image_entries(refs, t.registry),
    }
    path = t.state / "kustomization.yaml"
    _write(
        path,
        "# Written by stackbuild at deploy time; not committed.\n" + yaml.safe_dump(doc, sort_keys=False),
    )
    return path


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
    folder = write_kustomization(t, refs)
    built = kubectl_cli.kustomize(str(folder.parent))
    docs = [d for d in yaml.safe_load_all(built) if isinstance(d, dict)]
    check_pinned(docs, refs, t.registry)
    fp = _fingerprint(t, secrets)
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
        res = kubectl(t, "get", "namespace", t.namespace, "-o", "json", ns=False, check=False)
    except StackError:
        return None
    if res.code != 0:
        return None
    try:
        data = json.loads(res.stdout)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _annotation(ns: Doc | None) -> str | None:
    value = ((ns or {}).get("metadata") or {}).get("annotations", {}).get(ANNOTATION)
    return str(value) if value else None


def uid_of(ns: Doc | None) -> str | None:
    uid = ((ns or {}).get("metadata") or {}).get("uid")
    return str(uid) if uid else None


def namespace_uid(t: Target) -> str | None:
    return uid_of(live_namespace(t))


def applied_hash(t: Target) -> str | None:
    value = _read_json(t.state / "applied.json").get("hash")
    return str(value) if value else None


def apply_current(t: Target, ns: Doc | None) -> bool:
    """Up to date: the last hash that rolled out is what the cluster carries, nothing pending."""
    done = applied_hash(t)
    return bool(done) and _annotation(ns) == done and not (t.state / "pending.json").exists()


# --------------------------------------------------------------------------- steps


def workloads(p: Plan) -> list[tuple[str, str]]:
    return [(str(d["kind"]), str(d["metadata"]["name"])) for d in p.main if d.get("kind") in WORKLOADS]


def apply(t: Target, p: Plan, ns: Doc | None, refs: Mapping[str, str] | None = None) -> list[str]:
    """Apply unless unchanged, start the Jobs whose inputs changed, and write pending.json:
    what the wait step must see healthy before anything is recorded as applied. Returns
    the workloads the apply changed."""
    for name, job in p.jobs.items():
        _write(t.state / "jobs" / f"{name}.yaml", _dump([job]))
        _write(t.state / "jobs" / f"{name}.json", json.dumps({"inputs": p.job_inputs[name]}))
    changed: list[str] = []
    if p.hash == applied_hash(t) and _annotation(ns) == p.hash:
        print(f"  {t.namespace}: manifests unchanged ({p.hash[:12]}), nothing to apply")
    else:
        path = t.state / "manifests.yaml"
        _write(path, _dump(p.main))
        out = kubectl(t, "apply", "-f", str(path), ns=False).stdout
        print("\n".join(f"  {line}" for line in out.splitlines() if not line.endswith(" unchanged")))
        if p.secret is not None:
            # On stdin: secret values are never written to a file kubectl reads.
            kubectl(t, "apply", "-f", "-", input=yaml.safe_dump(p.secret))
        changed = [f"{m.group(1)}/{m.group(2)}" for m in map(_CHANGED.match, out.splitlines()) if m]
        ns = live_namespace(t)  # the apply may have created it: jobs are keyed by its UID
    started = [name for name in p.jobs if not job_current(t, name, ns)]
    for name in started:
        start_job(t, name)
    # Every workload of the plan is waited for, not only the changed ones: a workload that
    # failed on a first deploy is "unchanged" on the next run and must still be checked.
    _write(
        t.state / "pending.json",
        json.dumps(
            {
                "hash": p.hash,
                "workloads": workloads(p),
                "jobs": started,
                "changed": changed,
                "refs": dict(refs or {}),
            },
            sort_keys=True,  # gremlin: pardon[equivalent] pending.json is only read back as a dict
        ),
    )
    return changed


def start_job(t: Target, name: str) -> None:
    manifest = t.state / "jobs" / f"{name}.yaml"
    if not manifest.exists():
        raise StackError(f"no manifest for job {name}", fix="run the apply step first")
    kubectl(t, "delete", "job", name, "--ignore-not-found")  # Jobs are immutable
    kubectl(t, "apply", "-f", str(manifest))
    print(f"  job/{name} started")


def pending(t: Target) -> dict[str, Any]:
    return _read_json(t.state / "pending.json")


def job_current(t: Target, name: str, ns: Doc | None) -> bool:
    """Done for these inputs, in this very namespace (a recreated one has a new UID)."""
    done = _read_json(t.state / "jobs" / f"{name}.done")
    want = _read_json(t.state / "jobs" / f"{name}.json").get("inputs")
    uid = uid_of(ns)
    return bool(want) and uid is not None and done.get("inputs") == want and done.get("ns_uid") == uid


def deployments_ready(t: Target) -> dict[str, tuple[int, int]]:
    """name -> (ready, wanted). Zero counters are omitted by the API: read with defaults."""
    items = json.loads(kubectl(t, "get", "deployments", "-o", "json").stdout).get("items", [])
    return {
        d["metadata"]["name"]: (
            int(d.get("status", {}).get("readyReplicas", 0)),
            int(d.get("spec", {}).get("replicas", 1)),
        )
        for d in items
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
    print(f"  smoke check: {len(names)} deployments ready")
