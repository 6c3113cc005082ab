"""doit tasks: `doit minikube_up` brings a production-like stack up on Minikube, incrementally.

    minikube_start -> [compose_up_dbs] -> minikube_images:* -> [minikube_load]
        -> minikube_apply -> minikube_rollout -> minikube_up

The apply and the wait are tasks/ops/targets.py's engine on the Kubernetes target
(tasks/ops/k8s_target.py): jobs whose inputs changed start with the apply, and the rollout
step waits for every workload and job together under one deadline; nothing is recorded
as applied until all are healthy.

Every step is its own task and is skipped when already done. "Done" is checked live
(cluster running, addons on, images present, namespace annotated with the applied
hash, jobs completed in *this* namespace), so deleting the namespace or recreating
the cluster makes the next run redo exactly what is missing. A no-op run asks the
cluster a handful of read-only questions, each at most once (see `Live`).

env defaults to `minikube` for this family (`env=<name>` picks another
kubernetes-runtime environment without a cloud block).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from tasks import defaults
from tasks.errors import StackError
from tasks.families.shared.creators import failing_family, user_errors
from tasks.families.shared.image_builds import generate
from tasks.families.shared.options import Option
from tasks.families.shared.registry import creator, selected
from tasks.families.shared.run import Run
from tasks.model import Config, Minikube
from tasks.ops import k8s_deploy as kd
from tasks.ops import k8s_target, targets
from tasks.ops.k8s_target import KubeTarget
from tasks.ops.live import Facts
from tasks.programs import docker, kubectl
from tasks.programs import minikube as mk
from tasks.store import images, state
from tasks.store.paths import files_under

DEFAULT_ENV = defaults.MINIKUBE
# Images built for (or loaded into) Minikube have their own state folder, so the
# local `images` tasks and these never share (or fight over) a target.
IMAGES = "minikube_images"
PUBLIC = (
    "minikube_up",
    "minikube_start",
    "minikube_images",
    "minikube_apply",
    "minikube_rollout",
    "minikube_status",
    "minikube_logs",
    "minikube_down",
    "minikube_delete",
    "k8s_minikube",
    "port_forward",
)
TAIL = Option("tail", int, 50, "how many log lines per pod")
SERVICE = Option("service", str, "", "the service to forward (default: the first with a published port)")


def load(run: Run) -> Config:
    cfg = run.config(run.env_for("minikube_up"))
    if cfg.runtime != "kubernetes" or cfg.cloud is not None:
        raise StackError(
            f"environment {cfg.env!r} is not a local Kubernetes environment "
            f"(runtime: {cfg.runtime}{', cloud' if cfg.cloud else ''})",
            fix="use env=minikube (or another `runtime: kubernetes` environment without `cloud:`); "
            "cloud environments deploy with `doit deploy:<env>`",
        )
    return cfg


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


def _check(fn: Callable[[], bool]) -> Callable[[], bool]:
    """An uptodate check never crashes doit: any failure means "not done" and the action
    then reports it properly (missing tool -> install hint, cluster down -> fix)."""

    def check() -> bool:
        try:
            return bool(fn())
        except StackError:
            return False

    return check


def _ref_files(cfg: Config) -> list[str]:
    return [str(images.ref_file(cfg.env, name, IMAGES)) for name in cfg.cluster_images()]


def _refs(cfg: Config) -> dict[str, str]:
    names = cfg.cluster_images()
    found = images.refs(cfg.env, names, IMAGES)
    missing = [n for n in names if n not in found]
    if missing:
        raise StackError(f"no image recorded for {', '.join(missing)}", fix="run `doit minikube_up`")
    return found


def _published(cfg: Config) -> list[tuple[str, int, int]]:
    return [(s.name, p.port, p.publish) for s in cfg.services.values() for p in s.ports if p.publish]


def render_steps(env: str) -> list[str]:
    return ["render:k8s-base", "render:k8s-components", f"render:k8s-{env}"]


def _env_arg(cfg: Config) -> str:
    return "" if cfg.env == DEFAULT_ENV else f" env={cfg.env}"


# --------------------------------------------------------------------------- pipeline


def _start(cfg: Config) -> dict[str, Any]:
    m = cfg.minikube

    @user_errors
    def start() -> None:
        mk.require()
        kubectl.require()
        if mk.running(m.profile):
            print(f"  cluster {m.profile} is running")
        else:
            print(f"  starting cluster {m.profile} ({m.driver}, {m.cpus} CPUs, {m.memory} MB)", flush=True)
            mk.start(m)
        for addon in mk.missing_addons(m):
            mk.mk(m.profile, "addons", "enable", addon)
            print(f"  addon {addon} enabled")

    return {
        "basename": "minikube_start",
        "doc": "Start the Minikube cluster and enable its addons (if needed).",
        "actions": [start],
        "verbosity": 2,
        "uptodate": [_check(partial(_started, m))],
    }


def _started(m: Minikube) -> bool:
    return mk.running(m.profile) and not mk.missing_addons(m)


def _images(cfg: Config, live: Live) -> Iterator[dict[str, Any]]:
    docker_env = cfg.minikube.image_strategy == "docker-env"
    keep = {"base", "builder", *cfg.cluster_images()}
    yield {
        "basename": IMAGES,
        "name": None,
        "doc": "Build service images into Minikube's daemon (docker-env) or locally (image-load).",
    }
    for task in generate(
        cfg,
        basename=IMAGES,
        docker_env=live.docker_env if docker_env else dict,
        task_dep=["minikube_start"] if docker_env else [],
    ):
        if task["name"] in keep:
            yield {"basename": IMAGES, **task}


def _load(cfg: Config, live: Live) -> dict[str, Any]:
    """image-load: send only the images the cluster lacks; remember them per cluster UID."""
    profile = cfg.minikube.profile
    folder = state.minikube_dir(cfg.env)

    def record(uid: str) -> Path:
        return folder / f"images-{uid}.txt"

    def wanted() -> set[str]:
        return set(_refs(cfg).values())

    def current() -> bool:
        uid = live.uid()
        return uid is not None and record(uid).exists() and wanted() <= set(record(uid).read_text().split())

    @user_errors
    def load() -> None:
        uid = live.uid()
        if not uid:
            raise StackError(f"cluster {profile} is not reachable", fix="run `doit minikube_start`")
        have = mk.images(profile)
        refs = wanted()
        lacking = sorted(r for r in refs if mk.normalize(r) not in have)
        for ref in lacking:
            mk.load_image(profile, ref)
        print(f"  {len(lacking)} image(s) loaded, {len(refs) - len(lacking)} already in the cluster")
        old = set(record(uid).read_text().split()) if record(uid).exists() else set()
        state.write_atomic(record(uid), "".join(f"{r}\n" for r in sorted(old | refs)))

    return {
        "basename": "minikube_load",
        "doc": "Load locally built images the cluster lacks (image-load strategy).",
        "actions": [load],
        "file_dep": _ref_files(cfg),
        "task_dep": ["minikube_start", IMAGES],
        "uptodate": [_check(current)],
        "verbosity": 2,
    }


def _apply(cfg: Config, live: Live, target: KubeTarget, images_step: str) -> dict[str, Any]:
    t = live.target
    env_file = Path("compose") / t.env / ".env"
    # Host databases (option A) must be up before services connect to them. The compose
    # family owns that task; until its module exists, depending on it would break `doit list`.
    dbs = ["compose_up_dbs"] if cfg.placed("compose") and find_spec("tasks.families.compose") else []

    def current() -> bool:
        ns = live.namespace()
        return kd.apply_current(t, ns) and all(kd.job_current(t, j, ns) for j in target.jobs())

    @user_errors
    def apply() -> None:
        target.apply()
        live.forget()

    return {
        "basename": "minikube_apply",
        "doc": "Apply the overlay with content-tagged images and start changed jobs "
        "(skipped when the cluster has this hash and every job completed).",
        "actions": [apply],
        "verbosity": 2,
        "file_dep": [
            *_ref_files(cfg),
            *files_under("k8s/base", "k8s/components", str(t.overlay)),
            *([str(env_file)] if env_file.exists() else []),
        ],
        # Rendering first: editing environments/<env>.yaml and running minikube_up is enough.
        "task_dep": ["minikube_start", *dbs, images_step, *render_steps(t.env)],
        "uptodate": [_check(current)],
    }


def _rollout(cfg: Config, live: Live, target: KubeTarget) -> dict[str, Any]:
    t = live.target
    return {
        "basename": "minikube_rollout",
        "doc": "Wait for every workload and job together; roll back and explain every failure.",
        "actions": [(user_errors(targets.finish), [target])],
        "verbosity": 2,
        "task_dep": ["minikube_apply"],
        "uptodate": [(nothing_pending, [t])],
    }


def nothing_pending(t: kd.Target) -> bool:
    """Done unless an apply is still waiting for its workloads to be healthy."""
    return not (t.state / "pending.json").exists()


def _up(cfg: Config, steps: list[str]) -> dict[str, Any]:
    t = kd.Target.of(cfg, cfg.minikube.profile)

    def reach() -> None:
        published = _published(cfg)
        print(f"Stack {cfg.project} is up on Minikube profile {t.context}, namespace {t.namespace}.")
        for name, port, publish in published:
            print(
                f"  {name}: run `doit port_forward{_env_arg(cfg)}`, then open http://localhost:{publish}"
                f"  (kubectl --context {t.context} -n {t.namespace} port-forward svc/{name} {publish}:{port})"
            )
        print(f"  status: `doit minikube_status{_env_arg(cfg)}`, logs: `doit minikube_logs{_env_arg(cfg)}`")

    return {
        "basename": "minikube_up",
        "doc": "Bring the stack up on Minikube (each step skipped when done).",
        "actions": [reach],
        "task_dep": steps,
        "verbosity": 2,
    }


# --------------------------------------------------------------------------- operations


def _status(cfg: Config, live: Live, target: KubeTarget) -> dict[str, Any]:
    t = live.target
    p = cfg.minikube.profile

    @user_errors
    def status() -> None:
        rows: list[tuple[str, str, str]] = []
        st = mk.status(p)
        state = "absent" if st is None else str(st.get("Host"))
        rows.append(("cluster", p, f"{state}" + (f", uid {live.uid()}" if state == "Running" else "")))
        if state != "Running":
            _table(rows)
            raise StackError(
                f"cluster {p} is {state.lower()}: nothing is deployed",
                fix=f"run `doit minikube_up{_env_arg(cfg)}`",
            )
        enabled = mk.enabled_addons(p)
        for addon in cfg.minikube.addons:
            rows.append(("addon", addon, "enabled" if addon in enabled else "STALE: disabled"))
        refs = images.refs(t.env, cfg.cluster_images(), IMAGES)
        if cfg.minikube.image_strategy == "docker-env":
            present = {mk.normalize(r) for r in docker.image_refs(live.docker_env(), check=False) or []}
        else:
            present = mk.images(p)
        for name in cfg.cluster_images():
            ref = refs.get(name)
            rows.append(
                (
                    "image",
                    name,
                    "not built"
                    if ref is None
                    else f"{ref} " + ("present" if mk.normalize(ref) in present else "STALE: missing"),
                )
            )
        _table(rows)
        stale = [r for r in rows if "STALE" in r[2]]
        targets.status(target)  # raises (non-zero exit) unless every workload is ok
        if stale:
            raise StackError(
                f"{len(stale)} cluster item(s) are stale: " + ", ".join(f"{r[0]} {r[1]}" for r in stale),
                fix=f"run `doit minikube_up{_env_arg(cfg)}`",
            )

    return {
        "basename": "minikube_status",
        "doc": "Show cluster, addons, images and a table per workload (ok/stale/failed); "
        "fails unless all are ok.",
        "actions": [status],
        "verbosity": 2,
        "uptodate": [False],
    }


def _table(rows: list[tuple[str, str, str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    for kind, name, status in rows:
        print(f"  {kind.ljust(widths[0])}  {name.ljust(widths[1])}  {status}")


def _ops(cfg: Config, live: Live) -> Iterator[dict[str, Any]]:
    t = live.target
    p = cfg.minikube.profile

    @user_errors
    def logs(tail: int = 50) -> None:
        res = kd.kubectl(
            t, "logs", "-l", f"app.kubernetes.io/part-of={cfg.project}", f"--tail={tail}", "--prefix"
        )
        print(res.stdout, end="")

    @user_errors
    def down() -> None:
        kd.kubectl(t, "delete", "namespace", t.namespace, "--ignore-not-found", ns=False)
        print(
            f"  namespace {t.namespace} deleted "
            "(the cluster keeps running; `doit minikube_delete` removes it)"
        )

    @user_errors
    def delete() -> None:
        mk.mk(p, "delete")
        print(f"  cluster {p} deleted")

    @user_errors
    def forward(service: str = "") -> None:
        published = _published(cfg)
        wanted = service or (published[0][0] if published else "")
        match = [x for x in published if x[0] == wanted]
        if not match:
            raise StackError(
                f"no service with a published port named {wanted!r}",
                fix="add `publish:` to one of its ports in environments/stack.yaml",
            )
        name, port, publish = match[0]
        print(f"Forwarding http://localhost:{publish} -> svc/{name}:{port} (Ctrl-C stops)", flush=True)
        code = kubectl.port_forward(p, t.namespace, name, publish, port)
        if code not in (0, 130):
            raise StackError(
                f"kubectl port-forward exited with {code}", fix=f"is `doit minikube_up{_env_arg(cfg)}` done?"
            )

    yield {
        "basename": "minikube_logs",
        "doc": "Tail the logs of every pod of the stack (tail=N lines, default 50).",
        "actions": [logs],
        "verbosity": 2,
        "uptodate": [False],
    }
    yield {
        "basename": "minikube_down",
        "doc": "Delete the stack's namespace (the cluster keeps running).",
        "actions": [down],
        "verbosity": 2,
        "uptodate": [False],
    }
    yield {
        "basename": "minikube_delete",
        "doc": "Delete the Minikube cluster itself.",
        "actions": [delete],
        "verbosity": 2,
        "uptodate": [False],
    }
    yield {
        "basename": "port_forward",
        "doc": "Forward the published service port to localhost (runs until Ctrl-C).",
        "actions": [forward],
        "verbosity": 2,
        "uptodate": [False],
    }


@creator(
    # minikube_load exists only with `image_strategy: image-load`.
    *selected(
        *PUBLIC,
        "minikube_load",
        default_env=DEFAULT_ENV,
        options={"minikube_logs": (TAIL,), "port_forward": (SERVICE,)},
    )
)
def task_minikube(run: Run) -> Iterator[dict[str, Any]]:
    """Minikube family (minikube_up, minikube_status, ...); env defaults to minikube."""
    try:
        cfg = load(run)
    except StackError as exc:
        # A bad config or a non-Kubernetes env must not break `doit list`: every public
        # task exists and fails with the clean message.
        yield from failing_family(PUBLIC, exc)
        return
    for task in _family(cfg):
        yield run.with_params(task)


def _family(cfg: Config) -> Iterator[dict[str, Any]]:
    live = Live(cfg, kd.Target.of(cfg, cfg.minikube.profile))
    yield _start(cfg)
    yield from _images(cfg, live)
    steps = ["minikube_start", IMAGES]
    if cfg.minikube.image_strategy == "image-load":
        yield _load(cfg, live)
        steps.append("minikube_load")
    target = k8s_target.minikube(cfg)
    yield _apply(cfg, live, target, steps[-1])
    yield _rollout(cfg, live, target)
    steps += ["minikube_apply", "minikube_rollout"]
    yield _up(cfg, steps)
    yield {
        "basename": "k8s_minikube",
        "doc": "Alias of minikube_up.",
        "actions": None,
        "task_dep": ["minikube_up"],
    }
    yield _status(cfg, live, target)
    yield from _ops(cfg, live)
