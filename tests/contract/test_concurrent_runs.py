"""Two runs in one checkout: the second waits for the first, says for whom, and both agree.
Commands that only read never wait. Real doit processes on a project copy."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from tasks.store import state
from testing.processes import Doit
from testing.project import run_doit, snapshot

GENERATED = ("k8s", "compose", "terraform")


def edit_stack(project: Path, level: str) -> None:
    path = project / "environments/stack.yaml"
    text = path.read_text()
    for old in ("LOG_LEVEL: info", "LOG_LEVEL: warn", "LOG_LEVEL: debug"):
        text = text.replace(old, f"LOG_LEVEL: {level}")
    path.write_text(text)


@contextmanager
def lock_held(project: Path, holder: str = "") -> Iterator[IO[str]]:
    """The run lock, held by this test as another run would hold it."""
    path = project / state.lock_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write(holder)
        held.flush()
        yield held


def test_two_concurrent_runs_wait_for_each_other_and_agree(project: Path) -> None:
    assert run_doit(project, "render").code == 0
    edit_stack(project, "warn")
    runs = [Doit(project, "render") for _ in range(2)]
    results = [run.finish() for run in runs]
    assert [code for code, _ in results] == [0, 0], results
    assert all("Traceback" not in out for _, out in results)
    assert 'LOG_LEVEL: "warn"' in (project / "compose/local/docker-compose-services.yml").read_text()
    reference = snapshot(project, *GENERATED)
    assert run_doit(project, "render").executed() == []  # both runs left a consistent database
    assert snapshot(project, *GENERATED) == reference
    assert not [p for p in project.rglob("*.tmp")]


def test_a_second_run_says_which_run_it_waits_for(project: Path) -> None:
    with lock_held(project, "pid 4242 (`doit minikube_up`)\n") as held:
        second = Doit(project, "render")
        second.wait_for("waiting for pid 4242 (`doit minikube_up`) to finish")
        assert second.process.poll() is None  # it waits instead of colliding
        assert not (project / "k8s" / "base" / ".namespace.yaml.tmp").exists()
        fcntl.flock(held, fcntl.LOCK_UN)
    code, out = second.finish()
    assert code == 0, out
    assert "Another run holds this checkout: waiting for pid 4242" in out and "done waiting after" in out


def test_list_and_help_do_not_wait_for_the_lock(project: Path) -> None:
    with lock_held(project):
        code, out = Doit(project, "list").finish()
        assert code == 0 and "compose_up" in out
        code, out = Doit(project, "help", "compose_down").finish()
        assert code == 0 and "--wipe" in out
