"""A scratch folder holding one environment's committed compose/<env>/ files, with the fake
`docker` and `docker-compose` first on PATH (testing/fakes): the fixture `box` of the tests of
tasks/ops/compose.py, the Compose target and the docker-compose adapter."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tasks.config import load as config
from tasks.errors import ToolError
from tasks.ops import compose_ports
from tasks.ops.compose_stack import Stack
from testing.fakes import compose as fake_compose
from testing.fakes import docker as fake_docker
from testing.harness import FakeBin
from testing.project import REPO

ENV = "offline"
PROJECT = f"srvthreds-{ENV}"


@dataclass
class Box:
    stack: Stack
    fakes: FakeBin
    daemon: fake_docker.FakeDocker

    def compose_argvs(self) -> list[list[str]]:
        """The compose calls so far, global flags stripped (and forgotten)."""
        out = []
        for argv in self.fakes.argvs("docker-compose"):
            while argv and argv[0].startswith("-"):
                argv = argv[2:]
            out.append(argv)
        self.fakes.clear_calls()
        return out

    def script_compose(self, body: str) -> None:
        """Replace the stateful fake docker-compose by a few lines of sh."""
        self.fakes.script("docker-compose", body)


def host_ports(monkeypatch: pytest.MonkeyPatch, busy: frozenset[int] = frozenset()) -> None:
    """The host's ports as the fake daemon's containers see them: free unless in `busy`. On a
    shared machine another (real) stack may hold the demo's ports; a test on the fakes must not
    depend on that (the real sockets are tests/unit/ops/test_compose_ports.py's)."""
    monkeypatch.setattr(compose_ports, "free", lambda port: port not in busy)


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Box:
    fakes = FakeBin(tmp_path / "fakes")
    state = tmp_path / "docker-state"
    daemon = fake_docker.install(fakes.bin_dir, state, log=fakes.log)
    fake_compose.install(fakes.bin_dir, state, log=fakes.log)
    fakes.activate(monkeypatch)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    host_ports(monkeypatch)
    work = tmp_path / "work"
    shutil.copytree(REPO / "compose" / ENV, work / "compose" / ENV, ignore=shutil.ignore_patterns(".env"))
    monkeypatch.chdir(work)
    return Box(Stack(config.load(ENV, REPO)), fakes, daemon)


def write_env(text: str, mode: int = 0o600) -> Path:
    path = Path("compose") / ENV / ".env"
    path.write_text(text)
    path.chmod(mode)
    return path


def record_ref(name: str, ref: str) -> None:
    path = Path(".build") / ENV / "images" / f"{name}.ref"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ref + "\n")


def tool_error(stderr: str = "", stdout: str = "", code: int = 1, fix: str | None = None) -> ToolError:
    return ToolError(["docker-compose", "up"], code, stderr, stdout=stdout, fix=fix)


def add(box: Box, service: str, state: str = "running", health: str = "healthy", n: int = 1) -> None:
    labels = {"com.docker.compose.project": PROJECT, "com.docker.compose.service": service}
    box.daemon.add_container(f"{PROJECT}-{service}-{n}", "img", state=state, labels=labels, health=health)


PS_AND_LOGS = """\
case "$*" in
  *" ps "*) printf '%s\\n' "$PS_JSON";;
  *" logs "*"--tail "*) n="${*##*--tail }"; printf '%s\\n' "$LOGS" | tail -n "${n%% *}";;
  *" logs "*) printf '%s\\n' "$LOGS";;
  *) exit 2;;
esac
"""


def ps_rows(monkeypatch: pytest.MonkeyPatch, *rows: dict[str, str]) -> None:
    monkeypatch.setenv("PS_JSON", "\n".join(json.dumps(r) for r in rows))
