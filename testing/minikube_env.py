"""A Minikube test environment added to a project copy (tests/test_minikube.py, bench/)."""

from __future__ import annotations

import os
from pathlib import Path

# An environment whose databases need no host Compose (option B, except rabbitmq in the
# cluster), with the image-load strategy so every image transfer is visible to the fakes.
TEST_ENV = "mktest"
TEST_ENV_YAML = """\
runtime: kubernetes
host_address: host.minikube.internal
placement: {mongodb: external, redis: external, rabbitmq: cluster}
endpoints: {mongodb: "mongo.example.test:27017", redis: "redis.example.test:6379"}
config: {NODE_ENV: development, LOG_LEVEL: DEBUG}
minikube:
  profile: mktest
  image_strategy: %(strategy)s
"""


def write_test_env(project: Path, strategy: str = "image-load") -> str:
    """Add environments/mktest.yaml and its rendered overlay to a project copy, as a user
    would have after `doit render` (so the first minikube_up run starts from committed files)."""
    from tasks.config import load as config
    from tasks.render import files as render
    from tasks.render import templates, writer

    (project / "environments" / f"{TEST_ENV}.yaml").write_text(TEST_ENV_YAML % {"strategy": strategy})
    old = Path.cwd()
    os.chdir(project)  # templates are found relative to the project root, as under doit
    try:
        outputs = templates.texts(
            render.k8s_overlay(config.load(TEST_ENV, project), config.load_stack(project))
        )
        writer.write_all(outputs, project)
    finally:
        os.chdir(old)
    return TEST_ENV
