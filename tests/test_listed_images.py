"""Issue 15: hooks around the real image build (no stub replaces the image tasks).

docker is the fake of tests/minikube_support.py (build, tag, image ls) and docker-compose
the fake of tests/test_compose_tasks.py, both as programs on PATH: the image tasks, the
hooks and the Compose steps that run are the product's own.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.fixtures import run_doit
from tests.minikube_support import builds, install_docker
from tests.test_compose_tasks import FAKE as FAKE_COMPOSE

# Each hook records how many images were built when it ran.
COUNT = "$(ls .build/local/images 2>/dev/null | grep -c '[.]ref$')"


def _fakes(bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, project: Path) -> Path:
    install_docker(bin_dir, tmp_path / "fake-docker")
    (bin_dir / "docker").rename(bin_dir / "docker-images")
    compose = tmp_path / "fake_compose.py"
    compose.write_text(FAKE_COMPOSE)
    # `docker ps` and `docker volume` are the Compose fake's; builds and images the image fake's.
    (bin_dir / "docker").write_text(f'#!/bin/sh\ncase "$1" in ps|volume) exec "{sys.executable}" "{compose}" docker "$@";; '
                                    f'esac\nexec "{bin_dir}/docker-images" "$@"\n')
    (bin_dir / "docker-compose").write_text(f'#!/bin/sh\nexec "{sys.executable}" "{compose}" docker-compose "$@"\n')
    for name in ("docker", "docker-compose"):
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), os.environ["PATH"]]))
    monkeypatch.setenv("FAKE_STATE", str(tmp_path / "compose-state.json"))
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "compose-calls.jsonl"))
    monkeypatch.setenv("FAKE_ENV_FILE", str(project / "compose/local/.env"))
    return tmp_path / "compose-calls.jsonl"


def test_hooks_run_around_the_real_image_build(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _fakes(tmp_path / "bin", tmp_path, monkeypatch, project)
    env_yaml = project / "environments/local.yaml"
    env_yaml.write_text(env_yaml.read_text() + f'hooks:\n  pre_build: ["echo pre {COUNT} >> hooks.log"]\n'
                        f'  post_build: ["echo post {COUNT} >> hooks.log"]\n')
    first = run_doit(project, "compose_up", "env=local")
    assert first.code == 0, first.out
    built = builds(tmp_path / "fake-docker")
    assert built[0].endswith("Dockerfile.builder") and len(built) == 5  # builder + 4 service images
    assert (project / "hooks.log").read_text() == "pre 0\npost 5\n"  # before any build, after all of them
    ups = [c for c in map(json.loads, log.read_text().splitlines()) if c["prog"] == "docker-compose" and "up" in c["args"]]
    assert ups and all(c["images"] for c in ups)  # Compose got the content tags the builds recorded
    log.unlink()
    # Hooks run on every compose_up; nothing is built or started again.
    again = run_doit(project, "compose_up", "env=local")
    assert again.code == 0, again.out
    assert (project / "hooks.log").read_text() == "pre 0\npost 5\npre 5\npost 5\n"
    assert builds(tmp_path / "fake-docker") == built
    assert not any(json.loads(c)["prog"] == "docker-compose" and "up" in json.loads(c)["args"]
                   for c in (log.read_text().splitlines() if log.exists() else []))
