"""Entry point for doit. Logic lives in tasks/; this file only wires it up.

Run `doit list` to see every task. Environment-bound tasks take `env=<name>`.
"""
from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import NoReturn

from doit import get_var

from tasks import config
from tasks.check_tasks import task_validate  # noqa: F401
from tasks.cloud_tasks import task_checkov, task_kubeconfig, task_push, task_registry_login  # noqa: F401
from tasks.compose_tasks import task_compose  # noqa: F401
from tasks.deploy_tasks import (  # noqa: F401
    task_deploy,
    task_deploy_restored,
    task_release_export,
    task_rollback,
    task_smoke,
)
from tasks.errors import StackError
from tasks.image_tasks import task_base_image, task_builder_image, task_images  # noqa: F401
from tasks.minikube_tasks import task_minikube  # noqa: F401
from tasks.paths import BUILD, selected_env
from tasks.render_tasks import task_render  # noqa: F401
from tasks.terraform_tasks import task_tf_apply, task_tf_fmt, task_tf_plan, task_tf_validate  # noqa: F401

# An unknown env= is reported once, before any task is built, with a "did you mean".
if get_var("env") is not None:
    try:
        config.check_env_name(get_var("env"), Path.cwd())
    except StackError as exc:
        print(f"ERROR: {exc.render()}", file=sys.stderr)
        raise SystemExit(2) from None

# One dependency database per environment, so switching environments back and forth
# never invalidates another environment's up-to-date state.
_STATE = BUILD / "state"
_STATE.mkdir(parents=True, exist_ok=True)

DOIT_CONFIG = {
    "default_tasks": ["render", "validate"],
    "backend": "json",
    "dep_file": str(_STATE / f"{selected_env()}.json"),
    "check_file_uptodate": "md5",
    "verbosity": 2,
}


def _sigterm(signum: int, frame: object) -> NoReturn:
    # doit saves its database in a `finally` and never records an interrupted task;
    # turning SIGTERM into KeyboardInterrupt gives CI cancellations the same path as Ctrl-C.
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, _sigterm)
