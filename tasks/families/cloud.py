"""doit tasks for cloud environments: kubeconfig, registry login, image push, checkov.

Images are content-addressed (tasks/store/images.py): a reference names its content, so
an image already in the registry never needs pushing again, and one cheap call per
image (`docker manifest inspect`) decides.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tasks.config import load as config
from tasks.errors import StackError
from tasks.families.shared.creators import each_cloud_env, user_errors
from tasks.families.shared.registry import Scope, Task, creator
from tasks.families.shared.run import Run
from tasks.model import Cloud, Config
from tasks.output import console
from tasks.programs import aws, checkov, docker
from tasks.store import state
from tasks.store.images import ref_file, state_dir
from tasks.store.paths import TERRAFORM, dockerfiles, tf_files

CHECKOV_CONFIG = Path(".checkov.yaml")
WORKFLOWS = Path(".github/workflows")
CHECKOV_MODE = state.checkov_mode()
CHECKOV_SKIPPED = f"SKIPPED: checkov is not installed (install it in its own venv: {checkov.INSTALL})"


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
    name = cloud.cluster_name
    aws.update_kubeconfig(cloud.region, name)
    console.step(f"kubectl context {name} points at EKS cluster {name} ({cloud.region})")


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
    registry = cloud.registry
    if ".dkr.ecr." not in registry:
        console.step(f"{registry} is not ECR: log in with `docker login {registry}` yourself")
        return
    # The password goes from one program to the other through stdin, never argv or a file.
    docker.login(registry, "AWS", aws.ecr_password(cloud.region))
    console.step(f"logged in to {registry}")


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
def _push(env: str, names: list[str]) -> None:
    registry = _cloud(env).registry.rstrip("/")
    missing = [n for n in names if not ref_file(env, n).exists()]
    if missing or not names:
        raise StackError(
            f"no built image recorded for {', '.join(missing) or 'any service'} in {state_dir(env)}/",
            fix=f"run `doit images env={env}` first",
        )
    out = push_dir(env)  # write_atomic makes the folder
    for name in names:
        ref = ref_file(env, name).read_text().strip()
        remote = f"{registry}/{ref}"
        if docker.in_registry(remote):
            console.step(f"{remote}: already in the registry")
        else:
            docker.tag(ref, remote)
            docker.push(remote, prefix=name)
            console.step(f"{remote}: pushed")
        state.write_atomic(out / f"{name}.ref", remote + "\n")


@creator(Task("push", Scope.NAMED, mutating=True))
def task_push(run: Run) -> Iterator[dict[str, Any]]:
    """Push the images an environment's cluster runs (building stale ones first), if the registry
    lacks them."""
    return each_cloud_env(run, _push_task)


def _push_task(cfg: Config) -> dict[str, Any]:
    env, names = str(cfg.env), cfg.cluster_images()
    refs = [str(ref_file(env, n)) for n in names]
    return {
        "doc": f"Push the images of {env} (.build/{env}/images/*.ref) to its registry.",
        "actions": [(_push, [env, names])],
        # The .ref files are `images:<name>` targets: doit builds what is stale first.
        "file_dep": refs,
        "targets": [str(push_dir(env) / Path(p).name) for p in refs],
        "verbosity": 2,
    }


# --------------------------------------------------------------------------- checkov


SKIP_LINE = re.compile(r"^\s*-\s*(CKV\w*_\d+)\s*(?:#\s*(.*))?$")


def documented_skips(text: str) -> dict[str, str]:
    """check id -> reason, from the `skip-check:` list of .checkov.yaml.

    checkov rejects unknown keys in its config file, so a reason lives in a comment
    on the entry's own line. An entry without one is an error: every suppression
    must say why it is safe.
    """
    skips: dict[str, str] = {}
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(r"^skip-check\s*:", line):
            inside = True
            continue
        if inside and re.match(r"^\S", line):
            inside = False
        match = SKIP_LINE.match(line) if inside else None
        if inside and line.strip().startswith("-") and match is None:
            raise StackError(
                f".checkov.yaml line {number}: cannot read skip entry {line.strip()!r}",
                fix="write `  - CKV_ID  # why skipping it is safe`",
            )
        if match:
            reason = (match.group(2) or "").strip()
            if len(reason.split()) < 3:
                raise StackError(
                    f".checkov.yaml line {number}: {match.group(1)} is skipped without a reason",
                    fix=f"add `# <why this is safe>` after {match.group(1)}, or fix the finding",
                )
            skips[match.group(1)] = reason
    return skips


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
    if not checkov.installed():
        if os.environ.get("CI", "").lower() == "true":
            raise StackError("checkov is not installed, and CI must run it", fix=checkov.INSTALL)
        console.show("!" * 100 + f"\n  {CHECKOV_SKIPPED}\n" + "!" * 100)
        state.write_atomic(CHECKOV_MODE, "skipped\n")
        return
    CHECKOV_MODE.unlink(missing_ok=True)
    skips = documented_skips(CHECKOV_CONFIG.read_text(encoding="utf-8")) if CHECKOV_CONFIG.exists() else {}
    for check, reason in sorted(skips.items()):
        console.step(f"skipping {check}: {reason}")
    # .checkov.yaml (read by checkov from the project root) holds the output options; what to
    # scan is given here. One run per framework, one after the other: on two cores, runs side
    # by side took longer (measured 16.9 s against 14.7 s).
    done = [checkov.scan(framework, args) for framework, args in checkov_scans(envs)]
    failures = []
    for scan in done:
        console.step(
            f"checkov {scan.framework}: {', '.join(scan.summary) or 'no summary'} ({scan.seconds:.1f} s)"
        )
        if not scan.passed:
            failures.append(f"[{scan.framework}]\n" + scan.report)
    if failures:
        raise StackError(
            "checkov found problems:\n" + "\n\n".join(failures),
            fix="fix the finding; if it is safe by design, suppress it next to the resource "
            "with a reason that is true (`#checkov:skip=ID:reason` in Terraform, "
            "Dockerfiles and workflows; a checkov.io/skipN annotation in templates/k8s/)",
        )
    state.write_atomic(CHECKOV_MODE, "ran\n")


def _checkov_ran() -> bool:
    # A run without checkov is never recorded as up to date: it reruns (and warns) until it runs.
    return CHECKOV_MODE.exists() and CHECKOV_MODE.read_text().strip() == "ran"


@creator(Task("checkov", Scope.ALL))
def task_checkov(run: Run) -> dict[str, Any]:
    """checkov over Terraform, every Kubernetes overlay, the Dockerfiles and the GitHub workflows."""
    envs = checkov_envs(run)
    return {
        "actions": [(_checkov, [envs])],
        "file_dep": [
            *tf_files(TERRAFORM),
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
