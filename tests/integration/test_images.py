"""Real images on a real daemon: built by `doit images env=offline`, checked with testinfra."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import testinfra

from tasks.config import load as config
from tasks.programs import tools
from tasks.store import images
from testing.project import REPO, copy_build_state, run_doit

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("docker_daemon")]
ENV = "offline"
CFG = config.load(ENV, REPO)


@pytest.fixture(scope="module")
def built() -> dict[str, str]:
    """Build (or confirm up to date) every offline image in the repository's own state."""
    result = subprocess.run(
        [sys.executable, "-m", "doit", "images", f"env={ENV}"],
        cwd=REPO,
        check=False,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    names = list(CFG.services) + ["redis", "rabbitmq"]
    return {n: (REPO / images.ref_file(ENV, n)).read_text().strip() for n in names}


def container(
    ref: str, *cmd: str, entrypoint: str | None = None, env: dict[str, str] | None = None
) -> Iterator[testinfra.host.Host]:
    flags = ["--entrypoint", entrypoint] if entrypoint else []
    flags += [f for k, v in (env or {}).items() for f in ("-e", f"{k}={v}")]
    cid = tools.run("docker", "run", "-d", "--rm", *flags, ref, *cmd).stdout.strip()
    try:
        yield testinfra.get_host(f"docker://{cid}")
    finally:
        tools.run("docker", "rm", "-f", cid, check=False)


@pytest.mark.parametrize("name", [*CFG.services, "redis", "rabbitmq"])
def test_image_runs_as_non_root(built: dict[str, str], name: str) -> None:
    # The image's own entrypoint may need secrets; the user is what the image sets.
    for host in container(built[name], "120", entrypoint="sleep"):
        assert host.user().uid != 0
        assert host.user().name != "root"
        config_ = json.loads(tools.run("docker", "image", "inspect", built[name]).stdout)[0]["Config"]
        for path in config_.get("Entrypoint") or []:
            if path.startswith("/"):
                assert host.file(path).exists and host.file(path).mode & 0o111


@pytest.mark.parametrize("name", list(CFG.services))
def test_service_image_has_only_its_own_code(built: dict[str, str], name: str) -> None:
    module = name.replace("-", "_")
    for host in container(built[name], "sleep", "120"):
        assert host.file(f"/app/srvthreds_demo/{module}.py").exists
        assert host.file("/app/srvthreds_demo/common").is_directory
        others = [s.replace("-", "_") for s in CFG.services if s != name]
        assert not any(host.file(f"/app/srvthreds_demo/{o}.py").exists for o in others)
        inspect = json.loads(tools.run("docker", "image", "inspect", built[name]).stdout)[0]["Config"]
        # Health checks are configuration (Compose healthcheck, Kubernetes probes), not the image's.
        assert inspect["Healthcheck"]["Test"] == ["NONE"]
        assert inspect["User"] == str(CFG.images.uid)  # the build arg UID, from images.uid


def test_session_agent_listens_on_3000_and_answers_healthz(built: dict[str, str]) -> None:
    # Settings as Compose/Kubernetes give them, pointing at databases that do not exist.
    env = {"REDIS_HOST": "nowhere:6379", "RABBITMQ_HOST": "nowhere:5672", "RABBITMQ_PASSWORD": "x"}
    for host in container(built["session-agent"], "python3", "-m", "srvthreds_demo.session_agent", env=env):
        probe = (
            "import json, time, urllib.request, urllib.error\n"
            "for _ in range(50):\n"
            "    try:\n"
            "        r = urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=2)\n"
            "        print(r.status, r.read().decode()); break\n"
            "    except urllib.error.HTTPError as e:\n"
            "        print(e.code, e.read().decode()); break\n"
            "    except OSError:\n"
            "        time.sleep(0.2)\n"
        )
        out = host.check_output(f"python3 -c {shlex.quote(probe)}")
        # No Redis or RabbitMQ here: the agent must answer, and say what is down.
        status, body = out.split(" ", 1)
        assert status == "503"
        assert set(json.loads(body)["down"]) >= {"redis"}


def test_second_run_builds_nothing_and_one_service_change_moves_one_tag(
    built: dict[str, str], project: Path
) -> None:
    copy_build_state(project, ENV, "base")
    first = run_doit(project, "images", f"env={ENV}")
    assert first.code == 0, first.out[-2000:]
    before = {n: (project / images.ref_file(ENV, n)).read_text() for n in CFG.services}
    assert before == {n: built[n] + "\n" for n in CFG.services}  # same content, same tag
    again = run_doit(project, "images", f"env={ENV}")
    assert again.code == 0 and again.executed() == []
    # Forced: every build runs again (the base is kept), and the same content keeps its tags.
    forced = run_doit(project, "-a", "images", f"env={ENV}")
    assert forced.code == 0 and "images:engine" in forced.executed()
    assert {n: (project / images.ref_file(ENV, n)).read_text() for n in CFG.services} == before
    engine = project / "demo" / "srvthreds_demo" / "engine.py"
    engine.write_text(engine.read_text() + "\n# a change to engine only\n")
    third = run_doit(project, "images", f"env={ENV}")
    assert third.code == 0, third.out[-2000:]
    after = {n: (project / images.ref_file(ENV, n)).read_text() for n in CFG.services}
    changed = sorted(n for n in CFG.services if after[n] != before[n])
    assert changed == ["engine"]


def _all_containers() -> list[str]:
    return tools.run("docker", "ps", "-aq", "--no-trunc").stdout.split()


def test_failed_build_shows_its_failing_lines_leaves_nothing_and_is_not_recorded(
    built: dict[str, str], project: Path
) -> None:
    copy_build_state(project, ENV, "base")
    assert run_doit(project, "images", f"env={ENV}").code == 0
    dockerfile = project / "demo" / "docker" / "Dockerfile.service"
    # A test run that prints its report and fails, as `node --test` or pytest does.
    failing_test = "for i in $(seq 1 30); do echo ok $i; done; echo 'not ok 31 - adds two numbers'; exit 3"
    dockerfile.write_text(dockerfile.read_text() + f'\nRUN ["sh", "-c", "{failing_test}"]\n')
    containers = _all_containers()
    failed = run_doit(project, "images:engine", f"env={ENV}")
    assert failed.code != 0
    # The failing lines themselves, not only Docker's summary ("returned a non-zero code: 3").
    assert "image engine failed to build (exit 3)" in failed.out, failed.out[-3000:]
    assert "not ok 31 - adds two numbers" in failed.out and "    ok 30\n" in failed.out
    assert "legacy builder is deprecated" not in failed.out  # Docker's notice is not the failure
    assert "(all of it in .build/logs/build-engine.log)" in failed.out
    assert "not ok 31" in (project / ".build" / "logs" / "build-engine.log").read_text()
    assert _all_containers() == containers  # --force-rm: the failed step's container is gone
    assert (project / images.ref_file(ENV, "engine")).read_text() == built["engine"] + "\n"
    retry = run_doit(project, "images:engine", f"env={ENV}")
    assert "images:engine" in retry.executed()  # not recorded as done
