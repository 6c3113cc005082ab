"""Entry point for doit. Logic lives in tasks/; this file only wires it up.

Run `doit list` to see every task. The run is resolved once (tasks/run.py): the
environment, its configuration (or a clean error, exit 78), declared options and a
lock so that two runs in one checkout never collide. Every creator gets that `Run`.
"""
from __future__ import annotations

import sys
from pathlib import Path

from tasks import interrupts

interrupts.install()  # before the task modules load: Ctrl-C is never a traceback

from tasks import (
    check_tasks,
    cloud_tasks,
    compose_tasks,
    deploy_tasks,
    doctor_tasks,
    image_tasks,
    minikube_tasks,
    render_tasks,
    terraform_tasks,
)
from tasks.ops import prune
from tasks.reporter import SummaryReporter
from tasks.run import start

RUN = start(sys.argv[1:], Path.cwd())
# Summary table and clean failures (tasks/reporter.py).
DOIT_CONFIG = {**RUN.doit_config(), "reporter": SummaryReporter}

task_render = RUN.bind(render_tasks.task_render)
task_validate = RUN.bind(check_tasks.task_validate)
task_doctor = RUN.bind(doctor_tasks.task_doctor)
task__preflight = RUN.bind(doctor_tasks.task__preflight)
task_base_image = RUN.bind(image_tasks.task_base_image)
task_builder_image = RUN.bind(image_tasks.task_builder_image)
task_images = RUN.bind(image_tasks.task_images)
task_images_prune = RUN.bind(prune.task_images_prune)
task_compose = RUN.bind(compose_tasks.task_compose)
task_minikube = RUN.bind(minikube_tasks.task_minikube)
task_tf_fmt = RUN.bind(terraform_tasks.task_tf_fmt)
task_tf_validate = RUN.bind(terraform_tasks.task_tf_validate)
task_tf_plan = RUN.bind(terraform_tasks.task_tf_plan)
task_tf_apply = RUN.bind(terraform_tasks.task_tf_apply)
task_kubeconfig = RUN.bind(cloud_tasks.task_kubeconfig)
task_registry_login = RUN.bind(cloud_tasks.task_registry_login)
task_push = RUN.bind(cloud_tasks.task_push)
task_checkov = RUN.bind(cloud_tasks.task_checkov)
task_deploy = RUN.bind(deploy_tasks.task_deploy)
task_smoke = RUN.bind(deploy_tasks.task_smoke)
task_rollback = RUN.bind(deploy_tasks.task_rollback)
task_deploy_restored = RUN.bind(deploy_tasks.task_deploy_restored)
task_release_export = RUN.bind(deploy_tasks.task_release_export)
