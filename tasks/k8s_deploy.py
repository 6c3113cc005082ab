"""Deploying an overlay to a cluster: shared by `minikube_up` and the cloud `deploy:<env>`.

The steps, each usable on its own (Minikube runs them as separate doit tasks):

  plan     write .build/<env>/deploy/kustomization.yaml (the committed overlay plus
           `images:` pinned to content tags), build it with `kubectl kustomize`, hash it.
  apply    `kubectl apply -f` everything but Jobs, with the hash as an annotation on
           the Namespace only (commonAnnotations would change every pod template and
           roll every pod). Skipped when the hash is unchanged and the cluster carries it.
  rollout  wait for each Deployment the apply changed; on failure `rollout undo`, show
           why (waiting reason, events, logs) and fail. Only then is the hash recorded.
  jobs     Jobs are immutable: delete, re-apply and wait, only when their inputs changed.

State lives in .build/<env>/deploy/ (git-ignored): applied.json (last hash that rolled
out), pending.json (applied, not yet rolled out), jobs/<name>.{yaml,json,done}.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets as pysecrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tasks import envfile, tools
from tasks.errors import StackError, ToolError
from tasks.model import Config
from tasks.paths import BUILD

Doc = dict[str, Any]
ANNOTATION = "stackbuild.dev/applied-hash"
_CHANGED = re.compile(r"^deployment\.apps/(\S+) (created|configured)")


@dataclass(frozen=True)
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
        return BUILD / self.env / "deploy"

    @classmethod
    def of(cls, cfg: Config, context: str, registry: str | None = None) -> Target:
        assert cfg.env is not None
        return cls(env=cfg.env, context=context, namespace=cfg.namespace, project=cfg.project,
                   rollout_timeout=cfg.timeouts["rollout"], registry=registry)


def kubectl(t: Target, *args: str, ns: bool = True, **kw: Any) -> tools.Result:
    head = ["--context", t.context, *(["-n", t.namespace] if ns else [])]
    return tools.run("kubectl", *head, *args, **kw)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, text: str, mode: int | None = None) -> None:
    """Atomic, and untouched when equal (so md5 file_deps downstream don't move)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text() == text:
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    if mode is not None:
        tmp.chmod(mode)
    tmp.replace(path)


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
    given = envfile.read(Path("compose") / t.env / ".env")
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
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": f"{t.project}-secrets", "namespace": t.namespace,
                         "labels": {"app.kubernetes.io/part-of": t.project}},
            "stringData": dict(sorted(values.items()))}


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
    doc = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
           "resources": [os.path.relpath(t.overlay, t.state)],
           "images": image_entries(refs, t.registry)}
    path = t.state / "kustomization.yaml"
    _write(path, "# Written by stackbuild at deploy time; not committed.\n" + yaml.safe_dump(doc, sort_keys=False))
    return path


def containers(doc: Doc) -> list[Doc]:
    spec = (((doc.get("spec") or {}).get("template") or {}).get("spec") or {})
    return list(spec.get("containers") or []) + list(spec.get("initContainers") or [])


def check_pinned(docs: list[Doc], refs: Mapping[str, str], registry: str | None) -> None:
    """Every recorded image must appear, with its tag: a renamed repo would otherwise
    silently deploy `:latest`."""
    used = {c.get("image", "") for d in docs for c in containers(d)}
    want = {f"{registry}/{ref}" if registry else ref for ref in refs.values()}
    missing = sorted(want - used)
    if missing:
        raise StackError(f"the built manifests do not use {', '.join(missing)}",
                         fix="check that k8s/overlays and the image prefix agree (run `doit render`)")


@dataclass(frozen=True)
class Plan:
    hash: str
    main: list[Doc]  # everything but Jobs, Namespace annotated with the hash
    jobs: dict[str, Doc]
    job_inputs: dict[str, str]  # job -> hash of what it depends on
    secret: Doc | None


def plan(t: Target, refs: Mapping[str, str], secrets: Mapping[str, str] | None) -> Plan:
    folder = write_kustomization(t, refs)
    built = tools.run("kubectl", "kustomize", str(folder.parent)).stdout
    docs = [d for d in yaml.safe_load_all(built) if isinstance(d, dict)]
    check_pinned(docs, refs, t.registry)
    fp = _fingerprint(t, secrets)
    digest = _digest(_dump(docs) + fp)
    jobs = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Job"}
    main = [d for d in docs if d.get("kind") != "Job"]
    ns = [d for d in main if d.get("kind") == "Namespace" and d["metadata"].get("name") == t.namespace]
    if not ns:
        raise StackError(f"k8s/overlays/{t.env} has no Namespace {t.namespace!r}",
                         fix="run `doit render` (the base always declares the namespace)")
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


def apply(t: Target, p: Plan, ns: Doc | None) -> list[str]:
    """Apply unless unchanged; returns the Deployments that changed (to wait for)."""
    for name, job in p.jobs.items():
        _write(t.state / "jobs" / f"{name}.yaml", _dump([job]))
        _write(t.state / "jobs" / f"{name}.json", json.dumps({"inputs": p.job_inputs[name]}))
    if p.hash == applied_hash(t) and _annotation(ns) == p.hash:
        print(f"  {t.namespace}: manifests unchanged ({p.hash[:12]}), nothing to apply")
        return []
    path = t.state / "manifests.yaml"
    _write(path, _dump(p.main))
    out = kubectl(t, "apply", "-f", str(path), ns=False).stdout
    print("\n".join(f"  {line}" for line in out.splitlines() if not line.endswith(" unchanged")))
    if p.secret is not None:
        # On stdin: secret values are never written to a file kubectl reads.
        kubectl(t, "apply", "-f", "-", input=yaml.safe_dump(p.secret))
    changed = [m.group(1) for m in map(_CHANGED.match, out.splitlines()) if m]
    _write(t.state / "pending.json", json.dumps({"hash": p.hash, "deployments": changed}))
    return changed


def diagnose(t: Target, deployment: str) -> str:
    """Why a rollout failed: the failing pod's waiting reason, its events, its last logs."""
    res = kubectl(t, "get", "pods", "-l", f"app.kubernetes.io/name={deployment}", "-o", "json", check=False)
    try:
        pods = json.loads(res.stdout).get("items", []) if res.code == 0 else []
    except ValueError:
        pods = []

    def ready(pod: Doc) -> bool:
        return any(c.get("type") == "Ready" and c.get("status") == "True"
                   for c in pod.get("status", {}).get("conditions", []))

    bad = [p for p in pods if not ready(p)] or pods
    if not bad:
        return f"  no pods found for deployment {deployment}"
    pod = bad[0]
    name = pod["metadata"]["name"]
    lines = [f"  pod {name}:"]
    for cs in pod.get("status", {}).get("containerStatuses", []):
        state = cs.get("state", {})
        detail = state.get("waiting") or state.get("terminated") or {}
        if detail:
            lines.append(f"    {cs.get('name')}: {detail.get('reason', '?')} {detail.get('message', '')}".rstrip())
    events = kubectl(t, "get", "events", "--field-selector", f"involvedObject.name={name}", check=False)
    lines += ["  events:", *(f"    {line}" for line in events.stdout.splitlines()[-8:])]
    logs = kubectl(t, "logs", name, "--tail=20", check=False)
    lines += ["  logs (last 20 lines):", *(f"    {line}" for line in logs.stdout.splitlines())]
    return "\n".join(lines)


def wait_rollout(t: Target, deployment: str) -> ToolError | None:
    try:
        kubectl(t, "rollout", "status", f"deployment/{deployment}", f"--timeout={t.rollout_timeout}s")
    except ToolError as exc:
        return exc
    return None


def rollout(t: Target, deployments: list[str] | None = None) -> None:
    """Wait for the pending Deployments; undo and explain the first failure."""
    pending_file = t.state / "pending.json"
    pending = _read_json(pending_file)
    names = deployments if deployments is not None else list(pending.get("deployments", []))
    for name in names:
        err = wait_rollout(t, name)
        if err is None:
            print(f"  deployment/{name} rolled out")
            continue
        why = diagnose(t, name)  # before the undo, which replaces the failing pods
        try:
            kubectl(t, "rollout", "undo", f"deployment/{name}")
            undone = f"rolled back deployment/{name} to its previous revision"
        except ToolError as exc:
            undone = f"could not roll back deployment/{name}: {exc.stderr.strip() or exc.stdout.strip()}"
        # The apply is not recorded as done: the next run re-applies and waits again.
        pending_file.unlink(missing_ok=True)
        raise StackError(
            f"deployment/{name} did not become ready within {t.rollout_timeout}s; {undone}.\n{why}",
            fix=f"fix the cause above, then re-run; logs: `kubectl --context {t.context} -n {t.namespace} "
                f"logs deployment/{name}`")
    if "hash" in pending:
        _write(t.state / "applied.json", json.dumps({"hash": pending["hash"]}))
    pending_file.unlink(missing_ok=True)


def job_current(t: Target, name: str, ns: Doc | None) -> bool:
    """Done for these inputs, in this very namespace (a recreated one has a new UID)."""
    done = _read_json(t.state / "jobs" / f"{name}.done")
    want = _read_json(t.state / "jobs" / f"{name}.json").get("inputs")
    uid = uid_of(ns)
    return bool(want) and uid is not None and done.get("inputs") == want and done.get("ns_uid") == uid


def run_job(t: Target, name: str, uid: Callable[[], str | None]) -> None:
    manifest = t.state / "jobs" / f"{name}.yaml"
    if not manifest.exists():
        raise StackError(f"no manifest for job {name}", fix="run the apply step first")
    kubectl(t, "delete", "job", name, "--ignore-not-found")  # Jobs are immutable
    kubectl(t, "apply", "-f", str(manifest))
    res = kubectl(t, "wait", "--for=condition=complete", f"job/{name}", f"--timeout={t.rollout_timeout}s",
                  check=False)
    if res.code != 0:
        logs = kubectl(t, "logs", "-l", f"job-name={name}", "--tail=20", "--prefix", check=False)
        raise StackError(
            f"job/{name} did not complete within {t.rollout_timeout}s:\n"
            + "\n".join(f"    {line}" for line in (logs.stdout or res.stderr).splitlines()),
            fix=f"see `kubectl --context {t.context} -n {t.namespace} describe job/{name}`")
    print(f"  job/{name} completed")
    inputs = _read_json(t.state / "jobs" / f"{name}.json").get("inputs")
    _write(t.state / "jobs" / f"{name}.done", json.dumps({"inputs": inputs, "ns_uid": uid()}))


def deployments_ready(t: Target) -> dict[str, tuple[int, int]]:
    """name -> (ready, wanted). Zero counters are omitted by the API: read with defaults."""
    items = json.loads(kubectl(t, "get", "deployments", "-o", "json").stdout).get("items", [])
    return {d["metadata"]["name"]: (int(d.get("status", {}).get("readyReplicas", 0)),
                                    int(d.get("spec", {}).get("replicas", 1)))
            for d in items}


def smoke(t: Target, names: list[str]) -> None:
    """After a deploy: every Deployment rolled out and fully ready."""
    for name in names:
        kubectl(t, "rollout", "status", f"deployment/{name}", f"--timeout={t.rollout_timeout}s")
    ready = deployments_ready(t)
    short = {n: r for n, r in ready.items() if n in names and r[0] < r[1]}
    absent = [n for n in names if n not in ready]
    if short or absent:
        detail = ", ".join([f"{n} {r[0]}/{r[1]}" for n, r in short.items()] + [f"{n} missing" for n in absent])
        raise StackError(f"smoke check failed: {detail}",
                         fix=f"`kubectl --context {t.context} -n {t.namespace} get pods`")
    print(f"  smoke check: {len(names)} deployments ready")


def rollback(t: Target, names: list[str]) -> None:
    """Undo the last rollout of each Deployment and wait for the previous revision."""
    for name in names:
        kubectl(t, "rollout", "undo", f"deployment/{name}")
        err = wait_rollout(t, name)
        if err is not None:
            raise StackError(f"deployment/{name} did not become ready after the rollback:\n{diagnose(t, name)}",
                             fix=f"`kubectl --context {t.context} -n {t.namespace} rollout history "
                                 f"deployment/{name}`")
        print(f"  deployment/{name} rolled back")
    # What is live no longer matches what we applied: the next deploy must apply again.
    (t.state / "applied.json").unlink(missing_ok=True)
