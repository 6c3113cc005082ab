"""doit tasks: `doit validate` checks every artifact offline with real tools."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from doit.tools import config_changed

from tasks.checks import policy
from tasks.errors import StackError
from tasks.families.shared.creators import user_errors
from tasks.families.shared.registry import Scope, Task, creator
from tasks.families.shared.run import Run
from tasks.output import console
from tasks.programs import compose, kubectl, kubernetes_validate
from tasks.programs import hadolint as hadolint_cli
from tasks.store import state
from tasks.store.paths import code_files, dockerfiles, files_under


def check_overlay(env: str, version: str, out: str) -> None:
    built = kubectl.kustomize(f"k8s/overlays/{env}")
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    # The file kubernetes-validate reads. A unique name: two runs (or two environments)
    # never validate each other's file.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(built)
        # --strict rejects unknown fields; the version is pinned in environments/stack.yaml.
        kubernetes_validate.strict(tmp, version)
        problems = policy.violations(yaml.safe_load_all(built))
        if problems:
            raise StackError(
                f"k8s/overlays/{env} breaks the restricted Pod Security Standard:\n"
                + "\n".join(f"  - {p}" for p in problems),
                fix="fix the templates under templates/k8s/ and run `doit render`",
            )
        state.write_atomic(target, built)  # the built manifest exists only once every check passed
    finally:
        Path(tmp).unlink()  # mkstemp made it; nothing else removes it
    console.step(f"k8s/overlays/{env}: schema {version} strict OK, restricted profile OK")


def check_compose(files: list[str]) -> None:
    for path in files:
        folder = Path(path).parent
        # Secrets must be set for `config`; the committed example has placeholders.
        compose.check_file(path, str(folder / ".env.example"))
        console.step(f"{path}: OK")


def hadolint(dockerfiles: list[str]) -> None:
    console.show(hadolint_cli.lint(dockerfiles) or "  hadolint OK")


@creator(Task("validate", Scope.ALL))
def task_validate(run: Run) -> Iterator[dict[str, Any]]:
    """Check everything offline: kustomize + strict schemas + restricted profile, compose, hadolint,
    terraform, checkov."""
    stack = run.try_config(None)
    version = stack.kubernetes_version if not isinstance(stack, StackError) else ""
    for env in run.envs:
        cfg = run.try_config(env)
        if isinstance(cfg, StackError):
            continue  # render reports it (and the run stopped before this if validate needs it)
        if cfg.runtime == "kubernetes":
            out = str(state.manifests(env))
            yield {
                "name": f"k8s-{env}",
                "doc": f"kubectl kustomize k8s/overlays/{env}, strict schema, restricted profile.",
                "actions": [(user_errors(check_overlay), [env, version, out])],
                "file_dep": files_under("k8s/base", "k8s/components", f"k8s/overlays/{env}")
                + code_files(policy),
                # The schema version is a value, not a file: changing it validates again.
                "uptodate": [config_changed({"kubernetes_version": version})],
                "targets": [out],
                "task_dep": ["render"],
                "clean": True,
            }
        files = [f"compose/{env}/docker-compose-db.yml", f"compose/{env}/docker-compose-services.yml"]
        yield {
            "name": f"compose-{env}",
            "doc": f"docker compose config -q on compose/{env}/*.yml.",
            "actions": [(user_errors(check_compose), [files])],
            "file_dep": files + [f"compose/{env}/.env.example"],
            "task_dep": ["render"],
        }
    # Terraform formatting/structure and checkov live in their own tasks (tasks/families/terraform.py,
    # tasks/families/cloud.py); `doit validate` runs them too.
    yield {
        "name": "cloud",
        "doc": "terraform fmt, tf_validate (says what it could not check) and checkov.",
        "actions": None,
        "task_dep": ["tf_fmt", "tf_validate", "checkov"],
    }
    # Every Dockerfile of the project: the stack's own (wherever its build specs put them)
    # as well as docker/'s database images.
    found = dockerfiles()
    if found:
        yield {
            "name": "dockerfiles",
            "doc": "hadolint on every Dockerfile.",
            "actions": [(user_errors(hadolint), [found])],
            "file_dep": found,
        }
