"""doit tasks: `doit minikube_up` brings a production-like stack up on Minikube, incrementally.

    minikube_start -> [compose_up_dbs] -> minikube_images:* -> [minikube_load]
        -> minikube_apply -> minikube_rollout -> minikube_up

The apply and the wait are the deploy engine (tasks/ops/targets/rollout.py) on the target the
registry picks for the environment (tasks/ops/targets/registry.py: the Kubernetes target):
jobs whose inputs changed start with the apply, and the rollout step waits for every
workload and job together under one deadline; nothing is recorded as applied until all
are healthy. What each step does, and how it knows it is done, is tasks/ops/minikube.py.

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
from tasks.families.shared.image_builds import CONTEXT, generate
from tasks.families.shared.options import LOG_FILTERS, Option
from tasks.families.shared.registry import creator, selected
from tasks.families.shared.run import Run
from tasks.model import Config
from tasks.ops import minikube as ops
from tasks.ops.targets import registry, rollout
from tasks.ops.targets.base import DeployTarget
from tasks.render import plan
from tasks.store.paths import listed

DEFAULT_ENV = defaults.MINIKUBE
IMAGES = ops.IMAGES
TAIL = Option("tail", int, 50, "how many log lines per pod")
SERVICE = Option("service", str, "", "the service to forward (default: the first with a published port)")
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
    "port_forward",
)
TaskDict = dict[str, Any]


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


def _check(fn: Callable[[], bool]) -> Callable[[], bool]:
    """An uptodate check never crashes doit: any failure means "not done" and the action
    then reports it properly (missing tool -> install hint, cluster down -> fix)."""

    def check() -> bool:
        try:
            return bool(fn())
        except StackError:
            return False

    return check


def render_steps(env: str) -> list[str]:
    return ["render:k8s-base", "render:k8s-components", f"render:k8s-{env}"]


def _always(basename: str, doc: str, action: Callable[..., None]) -> TaskDict:
    return {
        "basename": basename,
        "doc": doc,
        "actions": [user_errors(action)],
        "verbosity": 2,
        "uptodate": [False],
    }


# --------------------------------------------------------------------------- pipeline


def _start(cfg: Config) -> TaskDict:
    return {
        "basename": "minikube_start",
        "doc": "Start the Minikube cluster and enable its addons (if needed).",
        "actions": [user_errors(partial(ops.start, cfg.minikube))],
        "verbosity": 2,
        "uptodate": [_check(partial(ops.started, cfg.minikube))],
    }


def _images(cfg: Config, live: ops.Live) -> Iterator[TaskDict]:
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
        # The cluster's images, and the build contexts they list.
        if task["name"] in keep or task["name"].startswith(CONTEXT):
            yield {"basename": IMAGES, **task}


def _load(cfg: Config, live: ops.Live) -> TaskDict:
    return {
        "basename": "minikube_load",
        "doc": "Load locally built images the cluster lacks (image-load strategy).",
        "actions": [user_errors(partial(ops.load_images, cfg, live))],
        "file_dep": ops.ref_files(cfg),
        "task_dep": ["minikube_start", IMAGES],
        "uptodate": [_check(partial(ops.images_loaded, cfg, live))],
        "verbosity": 2,
    }


def _apply(cfg: Config, live: ops.Live, target: DeployTarget, images_step: str) -> TaskDict:
    t = live.target
    env_file = Path("compose") / t.env / ".env"
    # Host databases (option A) must be up before services connect to them. The compose
    # family owns that task; until its module exists, depending on it would break `doit list`.
    dbs = ["compose_up_dbs"] if cfg.placed("compose") and find_spec("tasks.families.compose") else []
    return {
        "basename": "minikube_apply",
        "doc": "Apply the overlay with content-tagged images and start changed jobs "
        "(skipped when the cluster has this hash and every job completed).",
        "actions": [user_errors(partial(ops.apply, live, target))],
        "verbosity": 2,
        "file_dep": [
            *ops.ref_files(cfg),
            *plan.after_render(Path.cwd(), listed("k8s/base", "k8s/components", str(t.overlay))),
            *([str(env_file)] if env_file.exists() else []),
        ],
        # Rendering first: editing environments/<env>.yaml and running minikube_up is enough.
        "task_dep": ["minikube_start", *dbs, images_step, *render_steps(t.env)],
        "uptodate": [_check(partial(ops.applied, live, target))],
    }


def _rollout(live: ops.Live, target: DeployTarget) -> TaskDict:
    return {
        "basename": "minikube_rollout",
        "doc": "Wait for every workload and job together; roll back and explain every failure.",
        "actions": [(user_errors(rollout.finish), [target])],
        "verbosity": 2,
        "task_dep": ["minikube_apply"],
        "uptodate": [(ops.nothing_pending, [live.target])],
    }


def _up(cfg: Config, steps: list[str]) -> TaskDict:
    return {
        "basename": "minikube_up",
        "doc": "Bring the stack up on Minikube (each step skipped when done).",
        "actions": [partial(ops.reach, cfg)],
        "task_dep": steps,
        "verbosity": 2,
    }


# --------------------------------------------------------------------------- operations


def _ops(cfg: Config, live: ops.Live, target: DeployTarget) -> Iterator[TaskDict]:
    yield _always(
        "minikube_status",
        "Show cluster, addons, images and a table per workload (ok/stale/failed); fails unless all are ok.",
        partial(ops.status, cfg, live, target),
    )
    yield _always(
        "minikube_logs",
        "Tail the logs of the stack's pods (tail=N lines, default 50; service=, level=, id= filter).",
        partial(ops.logs, cfg),
    )
    yield _always(
        "minikube_down", "Delete the stack's namespace (the cluster keeps running).", partial(ops.down, cfg)
    )
    yield _always("minikube_delete", "Delete the Minikube cluster itself.", partial(ops.delete, cfg))
    yield _always(
        "port_forward",
        "Forward the published service port to localhost (runs until Ctrl-C).",
        partial(ops.forward, cfg),
    )


@creator(
    # minikube_load exists only with `image_strategy: image-load`.
    *selected(
        *PUBLIC,
        "minikube_load",
        default_env=DEFAULT_ENV,
        options={"minikube_logs": (TAIL, *LOG_FILTERS), "port_forward": (SERVICE,)},
    ),
    needs=("compose", "render"),
)
def task_minikube(run: Run) -> Iterator[TaskDict]:
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


def _family(cfg: Config) -> Iterator[TaskDict]:
    live = ops.live(cfg)
    yield _start(cfg)
    yield from _images(cfg, live)
    steps = ["minikube_start", IMAGES]
    if cfg.minikube.image_strategy == "image-load":
        yield _load(cfg, live)
        steps.append("minikube_load")
    target = registry.for_config(cfg)
    yield _apply(cfg, live, target, steps[-1])
    yield _rollout(live, target)
    steps += ["minikube_apply", "minikube_rollout"]
    yield _up(cfg, steps)
    yield from _ops(cfg, live, target)
