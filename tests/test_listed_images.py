"""Issue 15: hooks around the real image build (no stub replaces the image tasks).

docker and docker-compose are the fakes of testing/fakes (one store, one call log), as
programs on PATH: the image tasks, the hooks and the Compose steps that run are the
product's own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.fakes import compose as fake_compose
from testing.fakes import docker as fake_docker
from testing.harness import Call, FakeBin
from testing.project import run_doit

# Each hook records how many images were built when it ran.
COUNT = "$(ls .build/local/images 2>/dev/null | grep -c '[.]ref$')"


def _fakes(fakebin: FakeBin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> fake_docker.FakeDocker:
    """The fake docker and docker-compose first on PATH, sharing one store and fakebin's log."""
    state = tmp_path / "fake-docker"
    daemon = fake_docker.install(fakebin.bin_dir, state, log=fakebin.log)
    fake_compose.install(fakebin.bin_dir, state, log=fakebin.log)
    fakebin.activate(monkeypatch)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    return daemon


def _ups(fakebin: FakeBin) -> list[Call]:
    return [c for c in fakebin.calls("docker-compose") if "up" in c["argv"]]


def test_hooks_run_around_the_real_image_build(
    project: Path, fakebin: FakeBin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon = _fakes(fakebin, tmp_path, monkeypatch)
    env_yaml = project / "environments/local.yaml"
    env_yaml.write_text(
        env_yaml.read_text() + f'hooks:\n  pre_build: ["echo pre {COUNT} >> hooks.log"]\n'
        f'  post_build: ["echo post {COUNT} >> hooks.log"]\n'
    )
    first = run_doit(project, "compose_up", "env=local")
    assert first.code == 0, first.out
    built = daemon.builds()
    assert built[0].endswith("Dockerfile.builder") and len(built) == 5  # builder + 4 service images
    assert (project / "hooks.log").read_text() == "pre 0\npost 5\n"  # before any build, after all of them
    ups = _ups(fakebin)
    assert ups and all(c["images"] for c in ups)  # Compose got the content tags the builds recorded
    recorded = {(project / f".build/local/images/{name}.ref").read_text().strip() for name in built[1:]}
    assert recorded <= {ref for c in ups for ref in c["images"].values()}  # ...and exactly those
    fakebin.clear_calls()
    # Hooks run on every compose_up; nothing is built or started again.
    again = run_doit(project, "compose_up", "env=local")
    assert again.code == 0, again.out
    assert (project / "hooks.log").read_text() == "pre 0\npost 5\npre 5\npost 5\n"
    assert daemon.builds() == []
    assert daemon.mutating_calls() == []
    assert _ups(fakebin) == []
