"""Minikube operations for one environment: start the cluster, load images, apply, report and
tear down; tasks/families/minikube.py turns them into doit tasks.

"Done" is checked live (cluster running, addons on, images present, namespace annotated
with the applied hash, jobs completed in *this* namespace), so deleting the namespace or
recreating the cluster makes the next run redo exactly what is missing. A no-op run asks
the cluster a handful of read-only questions, each at most once (`Live`).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from tasks import defaults
from tasks.errors import StackError
from tasks.model import Config, Minikube
from tasks.ops import k8s_deploy as kd
from tasks.ops import logfilter
from tasks.ops.live import Facts
from tasks.ops.targets import rollout
from tasks.ops.targets.base import DeployTarget
from tasks.output import console
from tasks.programs import docker, kubectl
from tasks.programs import minikube as mk
from tasks.store import images, state

DEFAULT_ENV = defaults.MINIKUBE
# Images built for (or loaded into) Minikube have their own state folder, so the
# local `images` tasks and these never share (or fight over) a target.
IMAGES = "minikube_images"


class Live(Facts):
    """Cluster facts for one doit run, each asked at most once until an action changes them."""

    def __init__(self, cfg: Config, target: kd.Target) -> None:
        super().__init__()
        self.cfg = cfg
        self.target = target
        self.profile = cfg.minikube.profile

    def namespace(self) -> dict[str, Any] | None:
        return self.ask("namespace", partial(kd.live_namespace, self.target))

    def namespace_uid(self) -> str | None:
        return kd.uid_of(self.namespace())

    def uid(self) -> str | None:
        return self.ask("uid", partial(mk.cluster_uid, self.profile))

    def docker_env(self) -> dict[str, str]:
        return self.ask("docker_env", partial(mk.docker_env, self.profile))


def live(cfg: Config) -> Live:
    return Live(cfg, kd.Target.of(cfg, cfg.minikube.profile))


def env_arg(cfg: Config) -> str:
    """What to add to a `doit` command line for this environment (nothing for the default)."""
    return "" if cfg.env == DEFAULT_ENV else f" env={cfg.env}"


def published(cfg: Config) -> list[tuple[str, int, int]]:
    """(service, port, host port) of every published port."""
    return [(s.name, p.port, p.publish) for s in cfg.services.values() for p in s.ports if p.publish]


def ref_files(cfg: Config) -> list[str]:
    return [str(images.ref_file(cfg.env, name, IMAGES)) for name in cfg.cluster_images()]


def refs(cfg: Config) -> dict[str, str]:
    """name -> repo:tag of every image the cluster runs; an error names the missing ones."""
    names = cfg.cluster_images()
    found = images.refs(cfg.env, names, IMAGES)
    missing = [n for n in names if n not in found]
    if missing:
        raise StackError(f"no image recorded for {', '.join(missing)}", fix="run `doit minikube_up`")
    return found


# --------------------------------------------------------------------------- the pipeline


def start(m: Minikube) -> None:
    """Start the cluster unless it runs, and enable the addons it lacks."""
    mk.require()
    kubectl.require()
    if mk.running(m.profile):
        console.step(f"cluster {m.profile} is running")
    else:
        console.step(f"starting cluster {m.profile} ({m.driver}, {m.cpus} CPUs, {m.memory} MB)")
        mk.start(m)
    for addon in mk.missing_addons(m):
        mk.enable_addon(m.profile, addon)
        console.step(f"addon {addon} enabled")


def started(m: Minikube) -> bool:
    return mk.running(m.profile) and not mk.missing_addons(m)


def _loaded_file(cfg: Config, uid: str) -> Path:
    """Which images were sent to the cluster with this UID: a recreated cluster has none."""
    return state.minikube_dir(cfg.env) / f"images-{uid}.txt"


def images_loaded(cfg: Config, facts: Live) -> bool:
    uid = facts.uid()
    if uid is None or not _loaded_file(cfg, uid).exists():
        return False
    return set(refs(cfg).values()) <= set(_loaded_file(cfg, uid).read_text().split())


def load_images(cfg: Config, facts: Live) -> None:
    """image-load: send only the images the cluster lacks; remember them per cluster UID."""
    profile = cfg.minikube.profile
    uid = facts.uid()
    if not uid:
        raise StackError(f"cluster {profile} is not reachable", fix="run `doit minikube_start`")
    have = mk.images(profile)
    wanted = set(refs(cfg).values())
    lacking = sorted(r for r in wanted if mk.normalize(r) not in have)
    for ref in lacking:
        mk.load_image(profile, ref)
    console.step(f"{len(lacking)} image(s) loaded, {len(wanted) - len(lacking)} already in the cluster")
    record = _loaded_file(cfg, uid)
    old = set(record.read_text().split()) if record.exists() else set()
    state.write_atomic(record, "".join(f"{r}\n" for r in sorted(old | wanted)))


def applied(facts: Live, target: DeployTarget) -> bool:
    """The cluster carries the applied hash and every job completed in this namespace."""
    t, ns = facts.target, facts.namespace()
    return kd.apply_current(t, ns) and all(kd.job_current(t, j, ns) for j in target.jobs())


def apply(facts: Live, target: DeployTarget) -> None:
    target.apply()
    facts.forget()


def nothing_pending(t: kd.Target) -> bool:
    """Done unless an apply is still waiting for its workloads to be healthy."""
    return not t.record.is_pending()


def reach(cfg: Config) -> None:
    """How to reach the stack that is up: port-forwards, status and logs."""
    t = kd.Target.of(cfg, cfg.minikube.profile)
    console.show(f"Stack {cfg.project} is up on Minikube profile {t.context}, namespace {t.namespace}.")
    for name, port, publish in published(cfg):
        console.step(
            f"{name}: run `doit port_forward{env_arg(cfg)}`, then open http://localhost:{publish}"
            f"  (kubectl --context {t.context} -n {t.namespace} port-forward svc/{name} {publish}:{port})"
        )
    console.step(f"status: `doit minikube_status{env_arg(cfg)}`, logs: `doit minikube_logs{env_arg(cfg)}`")


# --------------------------------------------------------------------------- operations


def logs(cfg: Config, tail: int = 50, service: str = "", level: str = "", id: str = "") -> None:
    """The last `tail` lines of every pod of the stack, or of one service's pods (a label
    selector), of `level` and above, naming correlation id `id` (tasks/ops/logfilter.py)."""
    wanted = logfilter.LogFilter(logfilter.level_option(level), id)
    names = [*(s.name for s in cfg.services.values()), *(d.name for d in cfg.placed("cluster"))]
    one = logfilter.service_option(service, names, f"environment {cfg.env}")
    shown = logfilter.apply(log_text(cfg, tail=tail, service=one), wanted)
    console.show(shown, end="")
    if wanted.active() and not shown:
        # The filter reads only what kubectl returned: say how little that was.
        console.note(f"no log line matched in the last {tail} lines of each pod (tail=<n> reads more)")


def log_text(cfg: Config, *, tail: int, service: str = "") -> str:
    """The last `tail` lines of every pod of the stack (or of one service's), each prefixed with
    pod and container."""
    t = kd.Target.of(cfg, cfg.minikube.profile)
    selector = f"app.kubernetes.io/part-of={cfg.project}"
    selector += f",app.kubernetes.io/name={service}" if service else ""
    return kubectl.logs(t.scope, selector, tail=tail)


def secret_values(cfg: Config) -> list[str]:
    """The stack's secret values this checkout knows (to mask), never generating any."""
    t = kd.Target.of(cfg, cfg.minikube.profile)
    return [v for v in (kd.secret_values(cfg, t, False) or {}).values() if v]


def down(cfg: Config) -> None:
    """Delete the stack's namespace; the cluster keeps running."""
    t = kd.Target.of(cfg, cfg.minikube.profile)
    kubectl.delete(t.scope, "namespace", t.namespace, namespaced=False)
    console.step(
        f"namespace {t.namespace} deleted (the cluster keeps running; `doit minikube_delete` removes it)"
    )


def delete(cfg: Config) -> None:
    """Delete the Minikube cluster itself."""
    mk.delete(cfg.minikube.profile)
    console.step(f"cluster {cfg.minikube.profile} deleted")


def forward(cfg: Config, service: str = "") -> None:
    """Forward a published service port (the first one by default) until Ctrl-C."""
    ports = published(cfg)
    wanted = service or (ports[0][0] if ports else "")
    match = [x for x in ports if x[0] == wanted]
    if not match:
        raise StackError(
            f"no service with a published port named {wanted!r}",
            fix="add `publish:` to one of its ports in environments/stack.yaml",
        )
    name, port, publish = match[0]
    console.show(f"Forwarding http://localhost:{publish} -> svc/{name}:{port} (Ctrl-C stops)")
    code = kubectl.port_forward(cfg.minikube.profile, cfg.namespace, name, publish, port)
    if code not in (0, 130):
        raise StackError(
            f"kubectl port-forward exited with {code}", fix=f"is `doit minikube_up{env_arg(cfg)}` done?"
        )


# --------------------------------------------------------------------------- status


Rows = list[tuple[str, str, str]]


def cluster_rows(cfg: Config, facts: Live) -> tuple[str, Rows]:
    """The cluster's state (absent, Running, Stopped, ...) and (kind, name, status) rows of
    the cluster and, when it runs, of its addons and its images."""
    p = cfg.minikube.profile
    st = mk.status(p)
    host = "absent" if st is None else st.host
    rows = [("cluster", p, host + (f", uid {facts.uid()}" if host == "Running" else ""))]
    if host != "Running":
        return host, rows
    enabled = mk.enabled_addons(p)
    rows += [("addon", a, "enabled" if a in enabled else "STALE: disabled") for a in cfg.minikube.addons]
    recorded = images.refs(cfg.env, cfg.cluster_images(), IMAGES)
    if cfg.minikube.image_strategy == "docker-env":
        present = {mk.normalize(r) for r in docker.image_refs(facts.docker_env(), check=False) or []}
    else:
        present = mk.images(p)
    for name in cfg.cluster_images():
        ref = recorded.get(name)
        found = "present" if ref and mk.normalize(ref) in present else "STALE: missing"
        rows.append(("image", name, "not built" if ref is None else f"{ref} {found}"))
    return host, rows


def table(rows: Rows) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    return "\n".join(
        f"  {kind.ljust(widths[0])}  {name.ljust(widths[1])}  {what}" for kind, name, what in rows
    )


def status(cfg: Config, facts: Live, target: DeployTarget) -> None:
    """The cluster table, then the workload table; fails unless everything is ok."""
    host, rows = cluster_rows(cfg, facts)
    console.show(table(rows))
    if host != "Running":
        raise StackError(
            f"cluster {cfg.minikube.profile} is {host.lower()}: nothing is deployed",
            fix=f"run `doit minikube_up{env_arg(cfg)}`",
        )
    stale = [r for r in rows if "STALE" in r[2]]
    rollout.status(target)  # raises (non-zero exit) unless every workload is ok
    if stale:
        raise StackError(
            f"{len(stale)} cluster item(s) are stale: " + ", ".join(f"{r[0]} {r[1]}" for r in stale),
            fix=f"run `doit minikube_up{env_arg(cfg)}`",
        )
