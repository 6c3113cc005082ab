"""tasks/ops/compose_stack.py: the files, names and image references of one environment's
Compose stack, in a folder holding only compose/<env>/ (testing/composebox.py)."""

from __future__ import annotations

import dataclasses

import pytest

from tasks.errors import StackError
from tasks.ops.compose_stack import Stack, image_env
from testing.composebox import ENV, Box, box, record_ref, write_env

__all__ = ["box"]  # the fixture


def test_compose_args_use_the_example_env_file_until_the_real_one_exists(box: Box) -> None:
    folder = f"compose/{ENV}"
    head = ["--project-directory", folder, "-f", f"{folder}/docker-compose-db.yml"]
    head += ["-f", f"{folder}/docker-compose-services.yml", "--env-file"]
    assert box.stack.compose_project().args() == [*head, f"{folder}/.env.example"]
    write_env("RABBITMQ_PASSWORD=x\n")
    assert box.stack.compose_project().args() == [*head, f"{folder}/.env"]


def test_names_of_what_each_step_starts(box: Box) -> None:
    stack = box.stack
    assert stack.dbs() == ["redis", "rabbitmq", "prometheus"]  # its monitoring component's Prometheus
    assert stack.services() == ["engine", "session-agent"]
    assert stack.jobs() == ["bootstrap"]
    assert stack.built(["rabbitmq", "nginx", "engine"]) == ["rabbitmq", "engine"]
    # Under runtime kubernetes Compose hosts only the databases.
    kube = Stack(dataclasses.replace(stack.cfg, runtime="kubernetes"))
    assert kube.services() == [] and kube.jobs() == []
    assert kube.all_built() == ["redis", "rabbitmq", "prometheus"]


def test_image_env_passes_every_recorded_ref_and_requires_only_what_starts(box: Box) -> None:
    record_ref("engine", "srvthreds/engine:0123456789ab")
    # Not required: what is missing is left to the files' defaults.
    assert image_env(box.stack, ["session-agent"], required=False) == {
        "ENGINE_IMAGE": "srvthreds/engine:0123456789ab"
    }
    with pytest.raises(StackError) as info:
        image_env(box.stack, ["engine", "session-agent", "bootstrap"], required=True)
    assert info.value.message == f"no image built for session-agent, bootstrap in environment {ENV}"
    assert info.value.fix is not None and f"doit images env={ENV}" in info.value.fix
    # A pulled image (not built here) is never missing.
    record_ref("rabbitmq", "srvthreds/rabbitmq-offline:0123456789ab")
    assert set(image_env(box.stack, ["engine", "rabbitmq"], required=True)) == {
        "ENGINE_IMAGE",
        "RABBITMQ_IMAGE",
    }


def test_stack_ref_files_are_the_built_images_records(box: Box) -> None:
    assert box.stack.ref_files(["engine", "nginx", "rabbitmq"]) == [
        f".build/{ENV}/images/engine.ref",
        f".build/{ENV}/images/rabbitmq.ref",
    ]
