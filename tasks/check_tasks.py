"""doit tasks: `doit validate` checks every artifact offline with real tools."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tasks import config, policy, tools
from tasks.errors import StackError, user_errors
from tasks.paths import BUILD, files_under, root

MANIFESTS = BUILD / "manifests"


@user_errors
def _check_overlay(env: str, version: str, out: str) -> None:
    built = tools.run("kubectl", "kustomize", f"k8s/overlays/{env}").stdout
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(out + ".tmp")
    tmp.write_text(built, encoding="utf-8")
    # --strict rejects unknown fields; the version is pinned in environments/stack.yaml.
    tools.run("kubernetes-validate", "--strict", "--quiet", "-k", version, str(tmp))
    problems = policy.violations(yaml.safe_load_all(built))
    if problems:
        tmp.unlink()
        raise StackError(
            f"k8s/overlays/{env} breaks the restricted Pod Security Standard:\n"
            + "\n".join(f"  - {p}" for p in problems),
            fix="fix the templates under templates/k8s/ and run `doit render`",
        )
    tmp.replace(out)  # the built manifest exists only once every check passed
    print(f"  k8s/overlays/{env}: schema {version} strict OK, restricted profile OK")


@user_errors
def _check_compose(files: list[str]) -> None:
    for path in files:
        folder = Path(path).parent
        # Secrets must be set for `config`; the committed example has placeholders.
        tools.run("docker-compose", "-f", path, "--env-file", str(folder / ".env.example"), "config", "-q")
        print(f"  {path}: OK")


@user_errors
def _hadolint(dockerfiles: list[str]) -> None:
    print(tools.run("hadolint", *dockerfiles).stdout or "  hadolint OK")


def task_validate() -> Iterator[dict[str, Any]]:
    """Check everything offline: kustomize + strict schemas + restricted profile, compose, hadolint, terraform, checkov."""
    stack = config.load(None, root())
    for env in config.environments(root()):
        try:
            cfg = config.load(env, root())
        except StackError:
            continue  # render:config reports it
        if cfg.runtime == "kubernetes":
            out = str(MANIFESTS / f"{env}.yaml")
            yield {
                "name": f"k8s-{env}",
                "doc": f"kubectl kustomize k8s/overlays/{env}, strict schema, restricted profile.",
                "actions": [(_check_overlay, [env, stack.kubernetes_version, out])],
                "file_dep": files_under("k8s/base", "k8s/components", f"k8s/overlays/{env}")
                + ["tasks/policy.py"],
                "targets": [out],
                "task_dep": ["render"],
                "clean": True,
            }
        files = [f"compose/{env}/docker-compose-db.yml", f"compose/{env}/docker-compose-services.yml"]
        yield {
            "name": f"compose-{env}",
            "doc": f"docker compose config -q on compose/{env}/*.yml.",
            "actions": [(_check_compose, [files])],
            "file_dep": files + [f"compose/{env}/.env.example"],
            "task_dep": ["render"],
        }
    # Terraform formatting/structure and checkov live in their own tasks (tasks/terraform_tasks.py,
    # tasks/cloud_tasks.py); `doit validate` runs them too.
    yield {
        "name": "cloud",
        "doc": "terraform fmt, tf_validate (says what it could not check) and checkov.",
        "actions": None,
        "task_dep": ["tf_fmt", "tf_validate", "checkov"],
    }
    dockerfiles = [p for p in files_under("docker") if Path(p).name.startswith("Dockerfile")]
    if dockerfiles:
        yield {
            "name": "dockerfiles",
            "doc": "hadolint on every Dockerfile.",
            "actions": [(_hadolint, [dockerfiles])],
            "file_dep": dockerfiles,
        }
