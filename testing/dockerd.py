"""Fixtures for tests of the docker adapter and the image operations: the fake `docker` (and
scripted one-off fakes) first on PATH, a scratch working folder, a tiny build context.

Import the fixtures by name (`from testing.dockerd import daemon, fakes`) and list them in the
test module's `__all__`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.ops import docker_images
from testing.fakes import docker as fake_docker
from testing.harness import FakeBin

Daemon = fake_docker.FakeDocker
# A debootstrap that makes a minimal root file system in its last argument, the suite's name (the
# one before it) in etc/debian_version, and the --arch it was given (if any) in etc/arch.
DEBOOTSTRAP = (
    "eval root=\\${$#}; eval suite=\\${$(($# - 1))}\n"
    'mkdir -p "$root/etc"; echo "$suite" > "$root/etc/debian_version"\n'
    'for a; do case "$a" in --arch=*) echo "${a#--arch=}" > "$root/etc/arch";; esac; done\n'
)


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeBin:
    bin_ = FakeBin(tmp_path / "fakes")
    bin_.activate(monkeypatch)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # .build/ (built.txt, recorded refs) is relative
    docker_images.LISTINGS.forget()
    return bin_


@pytest.fixture
def daemon(fakes: FakeBin, tmp_path: Path) -> Daemon:
    return fake_docker.install(fakes.bin_dir, tmp_path / "docker-state", log=fakes.log)


def context(tmp_path: Path, text: str = "FROM scratch\n") -> tuple[str, str]:
    """(Dockerfile, context folder) of a one-file build context."""
    folder = tmp_path / "ctx"
    folder.mkdir(exist_ok=True)
    (folder / "Dockerfile").write_text(text)
    (folder / "app.txt").write_text("app\n")
    return str(folder / "Dockerfile"), str(folder)
