"""doit tasks: `doit validate` checks every artifact offline with real tools."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from doit.tools import config_changed

from tasks.checks import crds
from tasks.errors import StackError
from tasks.families.shared.creators import failing, user_errors
from tasks.families.shared.registry import Scope, Task, creator
from tasks.families.shared.run import Run
from tasks.ops import validate
from tasks.render import plan
from tasks.store import state
from tasks.store.paths import code_files, dockerfiles, listed

WORKFLOWS = Path(".github/workflows")


@creator(Task("validate", Scope.ALL), needs=("checkov", "render", "tf_fmt", "tf_validate"))
def task_validate(run: Run) -> Iterator[dict[str, Any]]:
    """Check everything offline (kustomize, schemas, compose, hadolint, terraform, checkov).

    Kubernetes manifests are checked against strict schemas and the restricted profile."""
    stack = run.try_config(None)
    version = stack.kubernetes_version if not isinstance(stack, StackError) else ""
    for env in run.envs:
        cfg = run.try_config(env)
        if isinstance(cfg, StackError):
            continue  # render reports it (and the run stopped before this if validate needs it)
        if cfg.runtime == "kubernetes":
            out = str(state.manifests(env))
            # The logging component's written exception holds only where it is switched on.
            shipper = cfg.log_namespace() if "logging" in cfg.components else ""
            folders = ("k8s/base", "k8s/components", f"k8s/overlays/{env}")
            yield {
                "name": f"k8s-{env}",
                "doc": f"kubectl kustomize k8s/overlays/{env}, strict schema, restricted profile.",
                "actions": [(user_errors(validate.check_overlay), [env, version, out, shipper])],
                # What the overlay holds once this run's render has run (it may remove a patch).
                "file_dep": plan.after_render(run.root, listed(*folders), *folders)
                + code_files(validate)  # and the policy it checks with
                + crds.schema_files(),  # and the custom resources' CRD schemas
                # The schema version is a value, not a file: changing it validates again.
                "uptodate": [config_changed({"kubernetes_version": version, "log_namespace": shipper})],
                "targets": [out],
                "task_dep": ["render"],
                "clean": True,
            }
        files = [f"compose/{env}/docker-compose-db.yml", f"compose/{env}/docker-compose-services.yml"]
        yield {
            "name": f"compose-{env}",
            "doc": f"docker compose config -q on compose/{env}/*.yml.",
            "actions": [(user_errors(validate.check_compose), [files])],
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
    yield from _dockerfiles()


def _dockerfiles() -> Iterator[dict[str, Any]]:
    found = dockerfiles()
    special = [path for path in found if not Path(path).is_file()]
    if special:
        # A FIFO named like a Dockerfile would hang hadolint (and `docker build`) forever.
        yield failing(
            StackError(
                f"{', '.join(special)} is a special file (a FIFO, socket or device), not a Dockerfile",
                fix="remove it, or replace it with a regular file",
            ),
            name="dockerfiles",
            doc="hadolint on every Dockerfile.",
        )
    elif found:
        yield {
            "name": "dockerfiles",
            "doc": "hadolint on every Dockerfile.",
            "actions": [(user_errors(validate.hadolint), [found])],
            "file_dep": found,
        }
    workflows = sorted(p.as_posix() for p in WORKFLOWS.glob("*.y*ml")) if WORKFLOWS.is_dir() else []
    # Always there (a project without workflows gets a step that says so): the task graph is
    # the same whatever the folder holds.
    yield {
        "name": "workflows",
        "doc": "actionlint on every GitHub workflow.",
        "actions": [(user_errors(validate.actionlint), [workflows])],
        "file_dep": workflows,
        # A run without actionlint is never recorded as up to date: it runs (and says so) again.
        # Without workflows there is nothing to check, whatever is installed: a true no-op. A
        # workflow added later is a new file_dep, so the task runs again then.
        "uptodate": [validate.actionlint_found if workflows else True],
    }
