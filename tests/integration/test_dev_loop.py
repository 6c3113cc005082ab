"""`doit dev env=offline` for real, in a scratch copy: started in the background, it brings the
stack up and waits; a change inside the demo's sync rules is served over HTTP with the image
unchanged; a change outside them is served with exactly one service image re-tagged; broken
code is one FAILED line while the old code keeps serving;
the fix is healthy again; a broken configuration mid-loop is one FAILED line naming the file;
a second loop is refused; SIGINT ends the loop with exit 0 within 2 s and the stack still up.

Needs host ports 3000, 6379, 5672 and 9090 free (run under the docker lock, see docs/testing.md).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tasks.programs import tools
from testing.compose_stack import ENV, containers, doit, scratch_stack

AGENT = "http://127.0.0.1:3000"
MODULE = "demo/srvthreds_demo/session_agent.py"
MODULE_TEST = "demo/tests/test_session_agent.py"
# The last 404 of make_app (unknown paths), with or without a revision.
NOT_FOUND = re.compile(r'return 404, \{"error": "not found"[^}]*\}\n\n    return app')
pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.usefixtures("docker_daemon")]


class Loop:
    """The background `doit dev` and what it printed so far."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.log = project.parent / "dev-output.txt"
        self.out = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "doit", "dev", f"env={ENV}"],
            cwd=project,
            stdout=self.out,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def text(self) -> str:
        return self.log.read_text()

    def wait_for(self, needle: str, after: int = 0, timeout: float = 900) -> str:
        """The first output line holding `needle` after character `after`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.text()[after:].splitlines():
                if needle in line:
                    return line
            assert self.proc.poll() is None, f"the loop ended:\n{self.text()[-4000:]}"
            time.sleep(0.2)
        raise AssertionError(f"no {needle!r} in:\n{self.text()[-4000:]}")


def served() -> dict[str, object]:
    try:
        with urllib.request.urlopen(AGENT + "/no-such-path", timeout=3) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as exc:
        return dict(json.loads(exc.read() or b"{}"))
    except (urllib.error.URLError, OSError):
        return {}


def serve_revision(project: Path, revision: int, also: Callable[[Path], None] | None = None) -> None:
    """session-agent's 404 body says which revision of the code is running; `also` edits
    another file first, in the same batch of changes."""
    path = project / MODULE
    body = f'return 404, {{"error": "not found", "revision": {revision}}}\n\n    return app'
    text, count = NOT_FOUND.subn(body, path.read_text())
    assert count == 1
    if also is not None:
        also(project)
    path.write_text(text)


def wait_served(revision: int, timeout: float = 300) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if served().get("revision") == revision:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"revision {revision} never served: {served()}")


def refs(project: Path) -> dict[str, str]:
    folder = project / ".build" / ENV / "images"
    return {p.stem: p.read_text().strip() for p in folder.glob("*.ref")}


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory, docker_daemon: None) -> Iterator[Loop]:
    # The loop brings the stack up itself; it is stopped before the stack is torn down.
    with scratch_stack(tmp_path_factory.mktemp("dev") / "project", up=False) as dest:
        running = Loop(dest)
        try:
            running.wait_for("[dev] watching")
            yield running
        finally:
            if running.proc.poll() is None:
                running.proc.kill()
                running.proc.wait()
            running.out.close()


def container_image(service: str) -> str:
    """The image ID the service's running container was created from."""
    return tools.run("docker", "inspect", "--format", "{{.Image}}", containers()[service]).stdout.strip()


def outside_the_rules(project: Path) -> None:
    """Touch session-agent's test file (its `inputs`, no sync rule): the batch it joins rebuilds."""
    path = project / MODULE_TEST
    path.write_text(path.read_text() + "\n# edited by the dev loop test\n")


def test_a_change_inside_the_sync_rules_is_served_and_the_image_is_unchanged(loop: Loop) -> None:
    before, image = refs(loop.project), container_image("session-agent")
    mark = len(loop.text())
    serve_revision(loop.project, 1)
    wait_served(1)
    line = loop.wait_for(f"[dev] {MODULE}", mark)
    assert "synced session-agent" in line and line.endswith("healthy"), line
    assert container_image("session-agent") == image and refs(loop.project) == before


def test_a_change_outside_the_rules_is_served_with_one_new_service_image(loop: Loop) -> None:
    before = refs(loop.project)
    mark = len(loop.text())
    serve_revision(loop.project, 2, also=outside_the_rules)
    wait_served(2)
    line = loop.wait_for("rebuilt session-agent", mark)
    assert line.endswith("healthy"), line
    after = refs(loop.project)
    services = {"engine", "session-agent", "bootstrap"}
    assert {n for n in services if after[n] != before[n]} == {"session-agent"}
    assert container_image("session-agent").removeprefix("sha256:")[:12] in after["session-agent"]


def test_broken_code_is_one_failed_line_and_the_old_code_keeps_serving(loop: Loop) -> None:
    mark = len(loop.text())
    path = loop.project / MODULE
    good = path.read_text()
    outside_the_rules(loop.project)
    path.write_text(good + "\ndef broken(:\n")
    line = loop.wait_for(f"[dev] {MODULE}", mark)
    assert "FAILED: image builder failed to build" in line and "SyntaxError" in line, line
    assert loop.proc.poll() is None and served().get("revision") == 2  # what ran keeps running
    mark = len(loop.text())
    path.write_text(good)
    serve_revision(loop.project, 3, also=outside_the_rules)
    wait_served(3)
    assert loop.wait_for("rebuilt session-agent", mark).endswith("healthy")


def test_a_broken_configuration_is_one_failed_line_naming_the_file(loop: Loop) -> None:
    env_file = loop.project / "environments" / f"{ENV}.yaml"
    good = env_file.read_text()
    mark = len(loop.text())
    env_file.write_text(good + "\nplacement: {redis: nowhere}\n")
    line = loop.wait_for(f"[dev] environments/{ENV}.yaml", mark)
    assert "FAILED" in line and f"{ENV}.yaml" in line.split("FAILED", 1)[1], line
    assert served().get("revision") == 3
    env_file.write_text(good)
    mark = len(loop.text())
    assert loop.wait_for(f"[dev] environments/{ENV}.yaml", mark).endswith("healthy")


def test_a_second_loop_is_refused_and_status_works_while_the_loop_waits(loop: Loop) -> None:
    second = doit(loop.project, "dev", timeout=120)
    assert second.returncode != 0
    assert "another `doit dev` already runs in this checkout" in second.stdout + second.stderr
    status = doit(loop.project, "compose_ps", timeout=60)
    assert status.returncode == 0, status.stdout + status.stderr


def test_sigint_ends_the_loop_with_exit_0_and_the_stack_keeps_running(loop: Loop) -> None:
    started = time.monotonic()
    loop.proc.send_signal(signal.SIGINT)
    code = loop.proc.wait(timeout=10)
    assert code == 0 and time.monotonic() - started < 2, loop.text()[-2000:]
    assert f"the stack keeps running (stop it with `doit compose_down env={ENV}`)" in loop.text()
    assert "session-agent" in containers() and served().get("revision") == 3
