"""A Docker daemon that is not there stops `images` and `compose_up` with one sentence and its
fix, never a traceback, fresh or after images were recorded; a daemon that goes away mid-run
gives the same sentence. (How fast it stops is a benchmark's question, not a test's: a timed
assertion fails on a loaded machine and proves nothing on an idle one.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.programs import tools
from testing import harness
from testing.project import copy_project

DOIT = str(Path(sys.executable).parent / "doit")
NOWHERE = "unix:///nonexistent.sock"
SENTENCE = (
    f"The Docker daemon is not running or not reachable at {NOWHERE}: start it "
    "(`systemctl start docker`, or `dockerd &`) or point DOCKER_HOST at a running one."
)

needs_docker_cli = pytest.mark.skipif(
    shutil.which("docker") is None, reason="the docker CLI is not installed (no daemon is needed)"
)


def doit(project: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    done = subprocess.run(
        [DOIT, *args],
        check=False,
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "DOCKER_HOST": NOWHERE, **(env or {})},
        timeout=60,
    )
    return done.returncode, done.stdout + done.stderr


def record_images(project: Path, *names: str) -> None:
    folder = project / ".build" / "local" / "images"
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / f"{name}.iid").write_text("sha256:" + "ab" * 32 + "\n")
        (folder / f"{name}.ref").write_text(f"srvthreds/{name}:abababababab\n")


@needs_docker_cli
@pytest.mark.parametrize("recorded", [False, True], ids=["fresh", "images-recorded"])
@pytest.mark.parametrize("task", ["images", "compose_up"])
def test_no_daemon_is_one_sentence_and_its_fix(tmp_path: Path, task: str, recorded: bool) -> None:
    project = copy_project(tmp_path / "p")
    if recorded:
        record_images(project, "builder", "engine", "session-agent", "persistence-agent", "bootstrap")
    code, out = doit(project, task)
    assert code != 0
    assert "Traceback" not in out
    assert out.strip() == SENTENCE


def fake_program(bin_dir: Path, name: str, script: str) -> None:
    harness.script(bin_dir, name, script)


def test_daemon_gone_after_the_preflight_gives_the_same_sentence(tmp_path: Path) -> None:
    # The first call (the preflight's image listing) answers; every later call finds no
    # daemon, as when the daemon stops mid-run. The uptodate check must not raise (it used
    # to: a traceback).
    project = copy_project(tmp_path / "p")
    record_images(project, "builder", "engine")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_program(
        bin_dir,
        "docker",
        f'if [ ! -e "{tmp_path}/answered" ]; then touch "{tmp_path}/answered"; exit 0; fi\n'
        f'echo "Cannot connect to the Docker daemon at {NOWHERE}. Is the docker daemon running?" >&2\n'
        "exit 1\n",
    )
    path = os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), "/usr/bin", "/bin"])
    code, out = doit(project, "images", env={"PATH": path})
    assert code != 0
    assert "Traceback" not in out
    assert SENTENCE in out
    assert "FAILED images:builder" in out


def test_uptodate_check_with_no_daemon_says_not_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.ops import docker_images

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_program(bin_dir, "docker", 'echo "Cannot connect to the Docker daemon" >&2; exit 1\n')
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"]))
    docker_images.LISTINGS.forget()
    iid, ref = tmp_path / "x.iid", tmp_path / "x.ref"
    iid.write_text("sha256:1\n")
    ref.write_text("r/x:1\n")
    assert docker_images.is_current(iid, ref, {}) is False


def test_daemon_down_error_is_the_sentence_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_program(
        bin_dir, "docker", 'echo "noise"; echo "Cannot connect to the Docker daemon at x" >&2; exit 1\n'
    )
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"]))
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    with pytest.raises(tools.DaemonDown) as info:
        tools.run("docker", "build", ".")
    assert str(info.value) == SENTENCE
    assert info.value.code == 1  # still a ToolError with the details for callers
