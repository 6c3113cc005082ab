"""The status page in a real browser (headless Debian Chromium through chromium-driver) on the
real daemon: `doit ui env=offline` over the offline demo stack, as a person would use it.

Every row healthy; a service broken on purpose turns failed, with its reason, within 2 s; its
"rebuild" button brings it back; the log pane shows a line the service just wrote (and a secret
value written to its log only masked). A screenshot is saved to .build/artifacts/ui.png (the CI
artefact; docs/images/ui.png is a copy of one).

Needs host ports 3000, 6379, 5672 and 9090 free (the offline stack) and one free port for the page.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tasks.ops.compose import MASK
from tasks.programs import tools
from tasks.store import envfile
from testing.browser import chromium
from testing.compose_stack import ENV, containers, scratch_stack
from testing.project import REPO

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.usefixtures("docker_daemon")]
ARTIFACTS = REPO / ".build" / "artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], Any], timeout: float, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(step)
    raise AssertionError(f"not within {timeout:g} s: {what}")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, docker_daemon: None) -> Iterator[Path]:
    """A scratch copy with the offline stack up; torn down (volumes too) whatever happens."""
    with scratch_stack(tmp_path_factory.mktemp("ui") / "project") as dest:
        yield dest


@pytest.fixture(scope="module")
def page(project: Path) -> Iterator[str]:
    """`doit ui env=offline` serving the page, stopped with Ctrl-C at the end."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "doit", "ui", f"env={ENV}", f"port={port}"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"

    def answers() -> bool:
        try:
            with urllib.request.urlopen(url + "api/state", timeout=2):
                return True
        except OSError:
            assert proc.poll() is None, proc.communicate()[0]
            return False

    try:
        wait_for("the page answers", answers, 60, 0.3)
        yield url
    finally:
        # SIGTERM, as a CI job or a supervisor stops it (and as Ctrl-C does: the same unwinding).
        proc.send_signal(signal.SIGTERM)
        try:
            said = proc.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            said = proc.communicate()[0] + "\n(killed: it did not stop within 20 s)"
        assert "stopping the status page" in said, said


# The page replaces a row whenever its status changes, so an element found in one WebDriver call
# may be gone by the next (a stale reference). Each read is one script: the DOM cannot change
# while it runs.
ROWS = """return Object.fromEntries([...document.querySelectorAll('tbody tr[id]')].map(r => [
    r.id.replace(/^row-/, ''),
    {kind: ((r.querySelector('.kind') || {}).textContent || '').trim(),
     verdict: r.dataset.verdict || ''}]))"""


def rows(driver: Any) -> dict[str, dict[str, str]]:
    """Every row of the table: its name, kind and verdict."""
    return dict(driver.execute_script(ROWS))


def verdict(driver: Any, name: str) -> str:
    return rows(driver).get(name, {}).get("verdict", "")


TEXT = "return (document.querySelector(arguments[0]) || {}).textContent || ''"


def text_of(driver: Any, selector: str) -> str:
    return str(driver.execute_script(TEXT, selector))


def test_the_page_follows_the_stack_and_its_rebuild_button_fixes_a_service(project: Path, page: str) -> None:
    with chromium() as driver:
        d: Any = driver
        d.get(page)
        names = list(wait_for("every row is listed", lambda: rows(d), 20))
        assert len(names) >= 2
        wait_for("every row healthy", lambda: all(verdict(d, n) == "ok" for n in names), 30)
        service = next(n for n, row in rows(d).items() if row["kind"] == "service")

        # Broken on purpose: its container stops. The row turns failed, with the reason, within 2 s.
        tools.run("docker", "stop", "-t", "1", containers()[service])
        broke = time.monotonic()
        wait_for(f"{service} failed", lambda: verdict(d, service) == "failed", 2.0, 0.05)
        took = time.monotonic() - broke
        reason = text_of(d, f"#row-{service} .reason")
        assert "exited" in reason, reason

        # "rebuild" runs the row's stale tasks through doit: the service comes back healthy.
        clicked = "const b = document.querySelector(arguments[0]); if (b) b.click(); return !!b"
        assert d.execute_script(clicked, f'#row-{service} button[data-verb="rebuild"]')
        wait_for(f"{service} healthy again", lambda: verdict(d, service) == "ok", 240, 0.5)

        # A line the service just wrote appears in its pane; a secret value only masked.
        marker = f"ui-marker-{uuid.uuid4().hex[:8]}"
        secret = next(iter(envfile.read(project / "compose" / ENV / ".env").values()))
        tools.run(
            "docker", "exec", containers()[service], "sh", "-c", f"echo {marker} {secret} > /proc/1/fd/1"
        )
        pane = f"log-{service}"
        text = wait_for(
            "the marker in the log pane",
            lambda: (t := text_of(d, f"#{pane}")) and marker in t and t,
            5,
        )
        assert secret not in text and f"{marker} {MASK}" in text

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        assert d.save_screenshot(str(ARTIFACTS / "ui.png"))
        if (REPO / "docs" / "images").is_dir() and "UPDATE_UI_SCREENSHOT" in os.environ:
            shutil.copy(ARTIFACTS / "ui.png", REPO / "docs" / "images" / "ui.png")
    print(f"\n{service}: failed on the page {took:.2f} s after its container stopped")
