"""Secrets that disagree with their volumes, on the real offline Compose stack.

The stack comes up once; then (1) a deleted compose/offline/.env is refused before
anything starts, and (2) a changed password makes the services' readiness fail (they
log in to RabbitMQ, which keeps the password its volume was created with): compose_up
fails with one sentence naming the fix, not "healthy" plus 370 lines of retries.
Exit codes and seconds until the failure is reported are printed for the closing note.

Needs host ports 3000, 6379, 5672 and 9090 free, and no other srvthreds-offline stack.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.compose_stack import ENV, containers, doit, scratch_stack

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.usefixtures("docker_daemon")]
SENTENCE = "but the data volumes of Compose project srvthreds-offline exist and keep the passwords"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, docker_daemon: None) -> Iterator[Path]:
    with scratch_stack(tmp_path_factory.mktemp("secrets") / "project") as dest:
        yield dest


def _timed(project: Path, label: str) -> tuple[int, str, float]:
    start = time.monotonic()
    result = doit(project, "compose_up")
    took = time.monotonic() - start
    said = next((line for line in (result.stdout + result.stderr).splitlines() if SENTENCE in line), "")
    print(f"\nSCENARIO {label}: exit {result.returncode}, {took:.1f}s\n  {said}")
    return result.returncode, result.stdout + result.stderr, took


def test_deleted_env_file_is_refused_before_anything_starts(project: Path) -> None:
    env_file = project / "compose" / ENV / ".env"
    saved = env_file.read_text()
    running = containers()
    env_file.unlink()
    try:
        code, out, _ = _timed(project, "deleted .env next to existing volumes")
        assert code != 0
        assert f"compose/{ENV}/.env is missing, {SENTENCE}" in out, out[-3000:]
        assert f"`doit compose_down env={ENV} wipe=1`" in out
        assert not env_file.exists()  # no new random secrets were generated
        assert containers() == running
    finally:
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(saved)


def test_changed_password_fails_readiness_with_one_sentence(project: Path) -> None:
    env_file = project / "compose" / ENV / ".env"
    saved = env_file.read_text()
    changed = "".join(
        line.split("=", 1)[0] + "=not-the-volumes-password\n"
        if line.startswith("RABBITMQ_PASSWORD=")
        else line
        for line in saved.splitlines(keepends=True)
    )
    env_file.write_text(changed)
    try:
        code, out, _ = _timed(project, "password mismatch against an existing volume")
        assert code != 0
        assert f"cannot log in with the passwords in compose/{ENV}/.env, {SENTENCE}" in out, out[-4000:]
        assert f"Fix: restore the compose/{ENV}/.env that created them" in out
        assert "services healthy" not in out  # readiness no longer lies
    finally:
        env_file.write_text(saved)
    back = doit(project, "compose_up")
    assert back.returncode == 0, back.stdout[-3000:] + back.stderr[-3000:]
