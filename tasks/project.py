"""Everything a project's dodo.py needs, in one call.

The tool's own repository and any other stack (examples/guestbook, a team's own
repository) share one list of tasks: a project's dodo.py is

    from tasks.project import dodo
    globals().update(dodo())

and doit finds every `task_*` and DOIT_CONFIG in its namespace. The project is the
folder doit runs in (the one holding environments/); it gets its own k8s/, compose/,
terraform/ and .build/ there.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tasks.cli import interrupts

interrupts.install()  # before the task modules load: Ctrl-C is never a traceback

from tasks.cli.reporter import SummaryReporter
from tasks.cli.run import start
from tasks.families import check as check_tasks
from tasks.families import cloud as cloud_tasks
from tasks.families import compose as compose_tasks
from tasks.families import deploy as deploy_tasks
from tasks.families import doctor as doctor_tasks
from tasks.families import images as image_tasks
from tasks.families import minikube as minikube_tasks
from tasks.families import prune as prune_tasks
from tasks.families import render as render_tasks
from tasks.families import terraform as terraform_tasks
from tasks.families.shared.run import Run

# doit task name -> creator. Internal steps start with "_" (doit hides them from `list`).
CREATORS = {
    "render": render_tasks.task_render,
    "validate": check_tasks.task_validate,
    "doctor": doctor_tasks.task_doctor,
    "_preflight": doctor_tasks.task__preflight,
    "base_image": image_tasks.task_base_image,
    "builder_image": image_tasks.task_builder_image,
    "images": image_tasks.task_images,
    "images_prune": prune_tasks.task_images_prune,
    "compose": compose_tasks.task_compose,
    "minikube": minikube_tasks.task_minikube,
    "tf_fmt": terraform_tasks.task_tf_fmt,
    "tf_validate": terraform_tasks.task_tf_validate,
    "tf_plan": terraform_tasks.task_tf_plan,
    "tf_apply": terraform_tasks.task_tf_apply,
    "kubeconfig": cloud_tasks.task_kubeconfig,
    "registry_login": cloud_tasks.task_registry_login,
    "push": cloud_tasks.task_push,
    "checkov": cloud_tasks.task_checkov,
    "deploy": deploy_tasks.task_deploy,
    "smoke": deploy_tasks.task_smoke,
    "rollback": deploy_tasks.task_rollback,
    "deploy_restored": deploy_tasks.task_deploy_restored,
    "release_export": deploy_tasks.task_release_export,
}


def dodo(argv: list[str] | None = None, root: Path | None = None) -> dict[str, Any]:
    """The names a dodo.py exports: RUN, DOIT_CONFIG and one `task_<name>` per creator.

    The run is resolved once (tasks/cli/run.py): the environment, its configuration (or a clean
    error, exit 78), declared options and a lock so that two runs in one project never collide.
    """
    run: Run = start(sys.argv[1:] if argv is None else argv, Path.cwd() if root is None else root)
    # Summary table and clean failures (tasks/cli/reporter.py).
    names: dict[str, Any] = {"RUN": run, "DOIT_CONFIG": {**run.doit_config(), "reporter": SummaryReporter}}
    for name, creator in CREATORS.items():
        names[f"task_{name}"] = run.bind(creator)
    return names
