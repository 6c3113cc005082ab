"""`doit images_prune`: the newest N content tags per repository stay, and so does every
recorded reference and every image a container uses. Docker is a fake on PATH."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.config import load as config
from tasks.ops import prune
from tasks.programs.docker import Tagged
from testing.fakes.docker import FakeDocker
from testing.project import REPO, run_doit


@pytest.fixture
def docker(project: Path, fake_docker_daemon: FakeDocker) -> FakeDocker:
    daemon = fake_docker_daemon
    for i in range(1, 7):
        daemon.add_image(
            f"srvthreds/engine:{i:012x}", iid=f"sha256:e{i}", created=f"2026-11-0{i} 10:00:00 +0000 UTC"
        )
    daemon.add_image("srvthreds/engine:latest", iid="sha256:e6")
    daemon.add_image(
        "srvthreds/builder:00000000000a", iid="sha256:b1", created="2026-11-01 10:00:00 +0000 UTC"
    )
    daemon.add_image("someone/else:000000000001", iid="sha256:x1", created="2026-11-01 10:00:00 +0000 UTC")
    daemon.add_container("c1", "sha256:e2")  # a stopped container uses the image of tag 2
    # This checkout built every engine tag the fake daemon lists (tasks/state.built_log).
    built(project, range(1, 7))
    return daemon


def built(project: Path, numbers: range) -> None:
    (project / ".build").mkdir(exist_ok=True)
    (project / ".build" / "built.txt").write_text("".join(f"srvthreds/engine:{i:012x}\n" for i in numbers))


def removed(docker: FakeDocker) -> list[str]:
    return [argv[2] for argv in docker.argvs() if argv[:2] == ["image", "rm"]]


def test_keeps_newest_recorded_and_used_tags(project: Path, docker: FakeDocker) -> None:
    # Another environment recorded tag 3; a (stopped) container uses the image of tag 2.
    recorded = project / ".build" / "minikube" / "minikube_images" / "engine.ref"
    recorded.parent.mkdir(parents=True)
    recorded.write_text("srvthreds/engine:000000000003\n")
    result = run_doit(project, "images_prune", "--keep", "2")
    assert result.code == 0, result.out
    assert removed(docker) == ["srvthreds/engine:000000000004", "srvthreds/engine:000000000001"]
    assert "2 old tag(s) removed" in result.out
    assert not {"srvthreds/engine:000000000004", "srvthreds/engine:000000000001"} & set(docker.refs())
    assert "srvthreds/engine:000000000002" in docker.refs()  # its container still uses it
    again = run_doit(project, "images_prune", "--keep", "2")
    assert again.code == 0, again.out
    assert len(removed(docker)) == 2  # a second prune finds nothing more to remove


def test_default_keeps_three(project: Path, docker: FakeDocker) -> None:
    assert run_doit(project, "images_prune").code == 0
    assert removed(docker) == ["srvthreds/engine:000000000003", "srvthreds/engine:000000000001"]


def test_tags_another_checkout_built_are_kept(project: Path, docker: FakeDocker) -> None:
    # A daemon shared with another checkout: its tags look like ours, but we did not build them.
    built(project, range(4, 7))
    assert run_doit(project, "images_prune", "--keep", "1").code == 0
    assert sorted(removed(docker)) == ["srvthreds/engine:000000000004", "srvthreds/engine:000000000005"]


def test_plan_never_touches_non_content_tags_or_other_repos() -> None:
    rows = [Tagged("r/a", "latest", "sha256:1", "1"), Tagged("r/a", "bookworm", "sha256:2", "2")]
    assert prune.plan(rows, keep=0, protected_refs=set(), used_ids=set()) == []


def test_builder_and_base_are_not_pushed() -> None:
    # push:<env> pushes what the cluster runs: the build-only images are not among them.
    names = config.load("dev", REPO).cluster_images()
    assert "builder" not in names and "base" not in names
    assert set(names) == {"engine", "session-agent", "persistence-agent", "bootstrap"}
