"""doit tasks for cloud environments: kubeconfig, registry login, image push, checkov.

What each one does is an operation: tasks/ops/cloud.py (kubeconfig, login, push) and
tasks/ops/checkov.py (the scans and their verdict).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tasks.config import load as config
from tasks.errors import StackError
from tasks.families.shared.creators import each_cloud_env, user_errors
from tasks.families.shared.registry import Scope, Task, creator
from tasks.families.shared.run import Run
from tasks.model import Cloud, Config
from tasks.ops import checkov, platforms
from tasks.ops import cloud as ops
from tasks.render import plan
from tasks.store import state
from tasks.store.images import platform_ref
from tasks.store.paths import TERRAFORM, dockerfiles, tf_files

CHECKOV_CONFIG = Path(".checkov.yaml")
WORKFLOWS = Path(".github/workflows")
CHECKOV_MODE = state.checkov_mode()


def _cloud(env: str) -> Cloud:
    cfg: Config = config.load(env, Path.cwd())
    if cfg.cloud is None:
        raise StackError(
            f"environment {env!r} has no `cloud:` block", fix=f"add one to environments/{env}.yaml"
        )
    return cfg.cloud


def push_dir(env: str) -> Path:
    return state.push_dir(env)


# --------------------------------------------------------------------------- kubeconfig / login


@user_errors
def _kubeconfig(env: str) -> None:
    cloud = _cloud(env)
    ops.kubeconfig(cloud.region, cloud.cluster_name)


@creator(Task("kubeconfig", Scope.NAMED, mutating=True))
def task_kubeconfig(run: Run) -> Iterator[dict[str, Any]]:
    """aws eks update-kubeconfig for each cloud environment's cluster."""
    return each_cloud_env(run, _kubeconfig_task)


def _kubeconfig_task(cfg: Config) -> dict[str, Any]:
    return {
        "doc": f"Point kubectl at the EKS cluster of {cfg.env}.",
        "actions": [(_kubeconfig, [cfg.env])],
        "uptodate": [False],
        "verbosity": 2,
    }


@user_errors
def _login(env: str) -> None:
    cloud = _cloud(env)
    ops.login(cloud.registry, cloud.region)


@creator(Task("registry_login", Scope.NAMED, mutating=True))
def task_registry_login(run: Run) -> Iterator[dict[str, Any]]:
    """docker login to each cloud environment's registry (ECR through the AWS CLI)."""
    return each_cloud_env(run, _login_task)


def _login_task(cfg: Config) -> dict[str, Any]:
    return {
        "doc": f"docker login to the registry of {cfg.env}.",
        "actions": [(_login, [cfg.env])],
        "uptodate": [False],
        "verbosity": 2,
    }


# --------------------------------------------------------------------------- push


@user_errors
def _push(env: str, names: list[str], listed: tuple[str, ...]) -> None:
    ops.push(env, names, _cloud(env).registry, push_dir(env), listed)


@creator(Task("push", Scope.NAMED, mutating=True), needs=("images",))
def task_push(run: Run) -> Iterator[dict[str, Any]]:
    """Push an environment's cluster images and write its release record (deploy/<env>/release.yaml).

    Stale images are built first; only those the registry lacks are uploaded."""
    return each_cloud_env(run, _push_task)


def _push_task(cfg: Config) -> dict[str, Any]:
    env, names, listed = str(cfg.env), cfg.cluster_images(), cfg.images.platforms
    host = platforms.host()
    # The images of each platform pushed (images:<name>, images:<name>@arm64), one list per image
    # when more than one; a list of the foreign platform alone does not wait for the host's.
    refs = [str(platform_ref(env, n, p, host)) for p in platforms.pushed(cfg) for n in names]
    return {
        "doc": f"Push the images of {env} (.build/{env}/images/*.ref) to its registry.",
        "actions": [(_push, [env, names, listed])],
        # The .ref files are `images:<name>` targets: doit builds what is stale first.
        "file_dep": refs,
        "targets": [str(push_dir(env) / f"{n}.ref") for n in names],
        "verbosity": 2,
    }


# --------------------------------------------------------------------------- checkov


def checkov_envs(run: Run) -> list[str]:
    """Every environment with a Kubernetes overlay (Minikube too), whose built manifests
    `validate:k8s-<env>` writes to .build/manifests/<env>.yaml."""
    out = []
    for env in run.envs:
        got = run.try_config(env)
        if not isinstance(got, StackError) and got.runtime == "kubernetes":
            out.append(env)
    return out


def workflow_files() -> list[str]:
    return sorted(p.as_posix() for p in WORKFLOWS.glob("*.y*ml")) if WORKFLOWS.is_dir() else []


def checkov_scans(envs: list[str]) -> list[tuple[str, list[str]]]:
    """(framework, checkov arguments) for every framework the repository has."""
    scans = (
        [("terraform", ["-d", "terraform", "--framework", "terraform"])] if Path("terraform").is_dir() else []
    )
    if envs:
        scans.append(
            (
                "kubernetes",
                [
                    "--framework",
                    "kubernetes",
                    *[a for env in envs for a in ("-f", str(state.manifests(env)))],
                ],
            )
        )
    if dockerfiles():
        scans.append(
            ("dockerfile", ["--framework", "dockerfile", *[a for f in dockerfiles() for a in ("-f", f)]])
        )
    if workflow_files():
        scans.append(("github_actions", ["-d", str(WORKFLOWS), "--framework", "github_actions"]))
    return scans


@user_errors
def _checkov(envs: list[str]) -> None:
    checkov.run(checkov_scans(envs), config=CHECKOV_CONFIG, mode=CHECKOV_MODE)


def _checkov_ran() -> bool:
    # A run without checkov is never recorded as up to date: it reruns (and warns) until it runs.
    return CHECKOV_MODE.exists() and CHECKOV_MODE.read_text().strip() == "ran"


@creator(Task("checkov", Scope.ALL), needs=("render", "validate"))
def task_checkov(run: Run) -> dict[str, Any]:
    """checkov over Terraform, every Kubernetes overlay, the Dockerfiles and the GitHub workflows."""
    envs = checkov_envs(run)
    return {
        "actions": [(_checkov, [envs])],
        "file_dep": [
            *plan.after_render(run.root, tf_files(TERRAFORM)),
            *[str(state.manifests(env)) for env in envs],
            *dockerfiles(),
            *workflow_files(),
            *([str(CHECKOV_CONFIG)] if CHECKOV_CONFIG.exists() else []),
        ],
        # validate:k8s-<env> writes the manifests only after they pass its own checks.
        "task_dep": [f"validate:k8s-{env}" for env in envs],
        "uptodate": [_checkov_ran],
        "verbosity": 2,
    }
