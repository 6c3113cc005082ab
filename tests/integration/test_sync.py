"""Live sync on the real daemon: the guestbook example (a scratch copy) up in an environment
of its own (`synctest`: its own Compose project and host port), an edit of the api synced into
its running container (`tasks/ops/sync.py`) and served over HTTP with no image built, the
container and its image unchanged, `compose_ps` showing the service as synced; then a real
`compose_up` builds the edit into a new image, replaces the container and forgets the sync.

Needs host port 8391 free.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tasks.config import load
from tasks.ops import sync
from tasks.programs import tools
from tasks.store import devstate, images
from testing import compose_stack
from testing.compose_stack import out, scratch_stack
from testing.project import REPO

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.usefixtures("docker_daemon")]
EXAMPLE = REPO / "examples" / "guestbook"
ENV = "synctest"
PROJECT = f"guestbook-{ENV}"
API = "http://127.0.0.1:8391"
ENV_FILE = """\
runtime: compose
images: {base: debootstrap}
placement: {postgres: compose}
services:
  api:
    ports: [{name: http, port: 8080, publish: 8391}]
    sync:
      - {source: app/api.js, target: /app/api.js, restart: container}
"""


def doit(project: Path, *args: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    return compose_stack.doit(project, *args, env=ENV, timeout=timeout)


def api_containers() -> list[str]:
    return tools.run(
        "docker",
        "ps",
        "-q",
        "--filter",
        f"label=com.docker.compose.project={PROJECT}",
        "--filter",
        "label=com.docker.compose.service=api",
    ).stdout.split()


def image_of(container: str) -> str:
    return tools.run("docker", "inspect", "--format", "{{.Image}}", container).stdout.strip()


def healthz() -> Any:
    try:
        with urllib.request.urlopen(API + "/healthz", timeout=5) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, ConnectionError, ValueError):
        return None


def served(want: dict[str, Any], seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while (got := healthz()) != want and time.monotonic() < deadline:
        time.sleep(0.2)
    return got


def seed_base(project: Path) -> None:
    """The example's debootstrap base, when the daemon has it, is recorded for this environment
    (make_base keeps a recorded base the daemon has); else `doit images` makes one."""
    found = tools.run(
        "docker", "image", "inspect", "--format", "{{.Id}}", "guestbook/base:bookworm", check=False
    )
    if found.code != 0:
        return
    iid = found.stdout.strip()
    ref = f"guestbook/base:{images.content_tag(iid)}"
    if tools.run("docker", "image", "inspect", ref, check=False).code != 0:
        return
    images.iid_file(ENV, "base").parent.mkdir(parents=True, exist_ok=True)
    (project / images.iid_file(ENV, "base")).write_text(iid + "\n")
    (project / images.ref_file(ENV, "base")).write_text(ref + "\n")


def example_copy(dest: Path) -> Path:
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".build", ".env", "__pycache__"))
    (dest / "environments" / f"{ENV}.yaml").write_text(ENV_FILE)
    return dest


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, docker_daemon: None) -> Iterator[Path]:
    """The example's scratch copy, current folder while it lasts; its stack is brought up by
    the first test (a user's `compose_up`), torn down (volumes too) whatever happens."""
    dest = tmp_path_factory.mktemp("sync") / "guestbook"
    stack = scratch_stack(dest, make=example_copy, env=ENV, compose_project=PROJECT, up=False)
    here = Path.cwd()
    with stack:
        os.chdir(dest)
        try:
            seed_base(dest)
            yield dest
        finally:
            os.chdir(here)


def test_1_the_stack_comes_up(project: Path) -> None:
    result = doit(project, "compose_up")
    assert result.returncode == 0, out(result)
    assert served({"status": "ok"}) == {"status": "ok"}


def test_2_an_edit_is_synced_into_the_running_container_and_served(project: Path) -> None:
    (before,) = api_containers()
    image = image_of(before)
    folder = tools.run("docker", "exec", before, "stat", "-c", "%u %a", "/app").stdout.strip()
    ref = (project / images.ref_file(ENV, "api")).read_text()
    source = project / "app" / "api.js"
    text = source.read_text()
    assert "{ status: 'ok' }" in text
    source.write_text(text.replace("{ status: 'ok' }", "{ status: 'ok', synced: true }"))
    cfg = load.load(ENV, project)
    plan = sync.plan(cfg, [source])
    assert plan is not None and list(plan.services) == ["api"]
    started = time.monotonic()
    sync.apply(cfg, plan)
    assert served({"status": "ok", "synced": True}) == {"status": "ok", "synced": True}
    print(f"\nsync to served: {time.monotonic() - started:.2f} s")
    assert api_containers() == [before] and image_of(before) == image  # the container, not an image
    # The copy (a tar stream) is root's and readable, like the image's code; its folder kept
    # the image's owner and mode.
    owners = tools.run("docker", "exec", before, "stat", "-c", "%n %u %a", "/app/api.js", "/app")
    assert owners.stdout.split("\n")[0] == "/app/api.js 0 644"
    assert owners.stdout.split("\n")[1] == f"/app {folder}"
    assert (project / images.ref_file(ENV, "api")).read_text() == ref  # nothing recorded as built
    record = devstate.read(ENV)["api"]
    assert record.synced and record.files == ("app/api.js",)


def healthy(container: str, seconds: float = 60) -> str:
    """The container's health once it is no longer starting (a restart starts it over)."""
    deadline = time.monotonic() + seconds
    while True:
        status = tools.run(
            "docker", "inspect", "--format", "{{.State.Health.Status}}", container
        ).stdout.strip()
        if status != "starting" or time.monotonic() > deadline:
            return status
        time.sleep(0.5)


def test_3_compose_ps_shows_the_service_as_synced(project: Path) -> None:
    (api,) = api_containers()
    assert healthy(api) == "healthy"
    result = doit(project, "compose_ps")
    assert result.returncode == 0, out(result)
    (row,) = [line for line in result.stdout.splitlines() if "service/api" in line]
    assert "synced (synced at " in row, result.stdout
    (worker,) = [line for line in result.stdout.splitlines() if "service/worker" in line]
    assert worker.rstrip().endswith(" ok"), result.stdout


def test_4_a_real_build_makes_the_edit_an_image_and_forgets_the_sync(project: Path) -> None:
    (synced,) = api_containers()
    old = (project / images.ref_file(ENV, "api")).read_text()
    result = doit(project, "compose_up")
    assert result.returncode == 0, out(result)
    assert (project / images.ref_file(ENV, "api")).read_text() != old  # the edit is in the build
    (now,) = api_containers()
    assert now != synced
    assert served({"status": "ok", "synced": True}) == {"status": "ok", "synced": True}
    assert not devstate.read(ENV)["api"].synced
    listing = doit(project, "compose_ps")
    assert listing.returncode == 0, out(listing)
    assert "synced" not in listing.stdout, listing.stdout
