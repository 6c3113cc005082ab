"""The guestbook example end to end, run as a user runs it: from its own folder (a scratch
copy), `doit render` (its committed files do not change), `doit validate`, `doit images`,
`doit compose_up`, requests through its API answered from PostgreSQL, `compose_down`.

Uses env=offline (the base image made with debootstrap: no registry). Needs host port
8380 free. The stack comes up once per module; every step's seconds are printed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import testinfra

from tasks.programs import tools
from tasks.store import images
from testing.project import REPO, snapshot

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.usefixtures("docker_daemon")]
EXAMPLE = REPO / "examples" / "guestbook"
ENV = "offline"
PROJECT = f"guestbook-{ENV}"
API = "http://127.0.0.1:8380"
GENERATED = ("compose", "k8s", "docs")
SECONDS: dict[str, float] = {}


def doit(project: Path, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "doit", *args, f"env={ENV}"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    SECONDS[" ".join(args)] = SECONDS.get(" ".join(args), 0) + time.monotonic() - started
    return result


def out(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout[-4000:] + result.stderr[-4000:]


def containers() -> dict[str, list[str]]:
    """service -> container IDs of the project (running or not)."""
    found: dict[str, list[str]] = {}
    listing = tools.run(
        "docker",
        "ps",
        "-a",
        "--filter",
        f"label=com.docker.compose.project={PROJECT}",
        "--format",
        '{{.Label "com.docker.compose.service"}} {{.ID}}',
    ).stdout
    for line in listing.splitlines():
        if line.strip():
            service, cid = line.split()
            found.setdefault(service, []).append(cid)
    return found


def leftovers(kind: str) -> list[str]:
    return tools.run(
        "docker", kind, "ls", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}"
    ).stdout.split()


def http(method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        API + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def reuse_base(project: Path) -> None:
    """A debootstrap base this checkout already made (the example's or the repository's
    own offline one: the same Debian suite) is reused; else the copy makes its own."""
    dest = project / images.state_dir(ENV)
    for source in (EXAMPLE, REPO):
        found = source / images.state_dir(ENV)
        if (found / "base.ref").exists() and (found / "base.iid").exists():
            dest.mkdir(parents=True, exist_ok=True)
            for suffix in (".iid", ".ref"):
                shutil.copy2(found / f"base{suffix}", dest / f"base{suffix}")
            return


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, docker_daemon: None) -> Iterator[Path]:
    """A copy of the example with its stack up; torn down (volume too) whatever happens."""
    if containers() or leftovers("volume"):
        pytest.fail(
            f"{PROJECT} already has containers or volumes; "
            f"run `doit compose_down env={ENV} wipe=1` in examples/guestbook first"
        )
    dest = tmp_path_factory.mktemp("example") / "guestbook"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".build", ".env", "__pycache__"))
    reuse_base(dest)
    try:
        yield dest
    finally:
        doit(dest, "compose_down", "wipe=1", timeout=300)
        print(
            "\nguestbook end to end, seconds per step: "
            + ", ".join(f"{step} {took:.1f}" for step, took in SECONDS.items())
        )


def test_1_render_changes_no_committed_file(project: Path) -> None:
    committed = snapshot(project, *GENERATED)
    result = doit(project, "render")
    assert result.returncode == 0, out(result)
    assert snapshot(project, *GENERATED) == committed


def test_2_validate(project: Path) -> None:
    result = doit(project, "validate")
    assert result.returncode == 0, out(result)
    assert "k8s/overlays/minikube: schema 1.33.0 strict OK, restricted profile OK" in result.stdout


def test_3_images(project: Path) -> None:
    result = doit(project, "images")
    assert result.returncode == 0, out(result)
    refs = {
        name: (project / images.ref_file(ENV, name)).read_text().strip()
        for name in ("api", "worker", "migrate", "postgres")
    }
    assert refs["api"].startswith("guestbook/api:") and refs["postgres"].startswith("guestbook/postgres:")
    # One Dockerfile, three targets: three different images.
    assert len({ref.split(":")[1] for name, ref in refs.items() if name != "postgres"}) == 3


def test_4_compose_up(project: Path) -> None:
    result = doit(project, "compose_up")
    assert result.returncode == 0, out(result)
    running = containers()
    assert sorted(running) == ["api", "postgres", "worker"], running  # the job ran and is gone
    assert len(running["worker"]) == 2  # replicas: 2, no published port


def test_5_the_api_answers_from_postgres(project: Path) -> None:
    status, health = http("GET", "/healthz")
    assert (status, health) == (200, {"status": "ok"})
    # The migrate job created the schema and wrote the first entry.
    status, listing = http("GET", "/entries")
    assert status == 200, listing
    assert any("migrate job" in entry["message"] for entry in listing["entries"]), listing
    # A new entry is stored by the api and processed by a worker, through the database.
    status, created = http("POST", "/entries", {"name": "ci", "message": "four words from CI"})
    assert status == 201, created
    deadline = time.monotonic() + 30
    while True:
        status, entry = http("GET", f"/entries/{created['id']}")
        if entry.get("words") is not None or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status == 200 and entry["words"] == 4, entry
    assert http("POST", "/entries", {"name": "ci"})[0] == 400


def test_5_every_worker_calls_the_api(project: Path) -> None:
    """A call between services (`worker: calls: {api: http}`): Compose needs nothing, so each
    worker reaches the api by its name; it logs the api's health when it changes."""
    workers = containers()["worker"]
    deadline = time.monotonic() + 60
    while True:
        logs = {cid: tools.run("docker", "logs", cid).stdout for cid in workers}
        if all("api answered 200" in text for text in logs.values()) or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert all("api answered 200" in text for text in logs.values()), logs


@pytest.mark.parametrize("service", ["api", "worker", "postgres"])
def test_6_containers_run_as_non_root(project: Path, service: str) -> None:
    for cid in containers()[service]:
        # `id -u`: the services' uid (images.uid) has no name in the image, and needs none.
        uid = int(testinfra.get_host(f"docker://{cid}").check_output("id -u"))
        assert uid == (10999 if service == "postgres" else 10001), (service, uid)


def test_7_compose_down_leaves_nothing(project: Path) -> None:
    result = doit(project, "compose_down", "wipe=1", timeout=300)
    assert result.returncode == 0, out(result)
    assert containers() == {}
    assert leftovers("network") == [] and leftovers("volume") == []
