"""The inner loop's cycle (`doit dev`, tasks/ops/devloop.py) in a copy of the project, on the
recording fakes: on Compose, one service's change builds its builder and its image and
recreates its containers alone; on Minikube, it builds one image into Minikube's daemon and
changes one Deployment, and a cycle that changes nothing makes no mutating call. `doit dev`
refuses a cloud environment in one sentence."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks.ops import devloop
from tasks.store import devstate
from testing.composebox import host_ports
from testing.fakes import compose as fake_compose
from testing.fakes import docker as fake_docker
from testing.fakes.cluster import FakeCluster
from testing.harness import FakeBin, read_calls
from testing.minikube_stack import NS, Stack, make_stack
from testing.project import run_doit

ENV = "offline"
AGENT = "demo/srvthreds_demo/session_agent.py"
AGENT_TEST = "demo/tests/test_session_agent.py"


def edit(project: Path, rel: str) -> None:
    path = project / rel
    path.write_text(path.read_text() + "\n# edited by a test\n")


@pytest.fixture
def compose_stack(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, FakeBin]]:
    """The project copy, brought up with `doit compose_up` on the fake docker and compose (the
    base pulled by name: debootstrap needs root), with the call log cleared."""
    fakes = FakeBin(project.parent / "fakes")
    state = project.parent / "docker-state"
    fake_docker.install(fakes.bin_dir, state, log=fakes.log)
    fake_compose.install(fakes.bin_dir, state, log=fakes.log)
    fakes.activate(monkeypatch)
    host_ports(monkeypatch)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    env_yaml = project / "environments" / f"{ENV}.yaml"
    env_yaml.write_text(env_yaml.read_text().replace("images:\n  base: debootstrap\n", ""))
    first = run_doit(project, "compose_up", f"env={ENV}")
    assert first.code == 0, first.out
    fakes.clear_calls()
    monkeypatch.chdir(project)
    yield project, fakes


def refs(project: Path) -> dict[str, str]:
    folder = project / ".build" / ENV / "images"
    return {p.stem: p.read_text().strip() for p in folder.glob("*.ref")}


def test_one_service_change_rebuilds_and_recreates_that_service_alone(
    compose_stack: tuple[Path, FakeBin],
) -> None:
    project, fakes = compose_stack
    before = refs(project)
    # The module has a sync rule, its test file none: a batch with a file outside the rules rebuilds.
    changed = [AGENT, AGENT_TEST]
    for rel in changed:
        edit(project, rel)
    outcome = devloop.cycle(ENV, project, changed)
    assert outcome.ok, outcome.line()
    assert outcome.line().startswith(f"[dev] {AGENT}, {AGENT_TEST}: rebuilt session-agent in ")
    calls = read_calls(fakes.log)
    builds = [c["argv"] for c in calls if c["tool"] == "docker" and c["argv"][0] == "build"]
    assert len(builds) == 2 and "SERVICE=session-agent" in builds[0]  # its builder, then its image
    ups = [c["argv"] for c in calls if c["tool"] == "docker-compose" and "up" in c["argv"]]
    assert len(ups) == 1 and ups[0][-1] == "session-agent" and "engine" not in ups[0]
    assert ups[0][ups[0].index("--timeout") + 1] == "0"  # a replaced container is not waited for
    after = refs(project)
    changed_refs = {name for name in after if after[name] != before.get(name)}
    assert changed_refs == {"builder", "session-agent"}
    record = devstate.read(ENV)["session-agent"]
    assert record.result == "ok" and record.image == after["session-agent"] and not record.synced


def test_a_change_inside_the_sync_rules_is_synced_without_a_build(
    compose_stack: tuple[Path, FakeBin],
) -> None:
    project, fakes = compose_stack
    before = refs(project)
    edit(project, AGENT)
    outcome = devloop.cycle(ENV, project, [AGENT])
    assert outcome.ok and outcome.ran == "synced session-agent", outcome.line()
    calls = read_calls(fakes.log)
    assert not [c for c in calls if c["tool"] == "docker" and c["argv"][0] == "build"]
    ups = [c["argv"] for c in calls if c["tool"] == "docker-compose" and "up" in c["argv"]]
    assert len(ups) == 1 and ups[0][-1] == "session-agent"  # waits for it to be healthy again
    assert refs(project) == before  # the image is unchanged: only the container's files are
    assert devstate.read(ENV)["session-agent"].synced
    # Docker's part: one listing (with the images), one copy, the rule's restart command run in
    # the container (offline's: `kill -HUP 1`, no container restart); then the deploy's volume
    # listing before its `compose up --wait`.
    assert [c["argv"][0] for c in calls if c["tool"] == "docker"] == ["ps", "cp", "exec", "volume"]
    (run,) = [c["argv"] for c in calls if c["tool"] == "docker" and c["argv"][0] == "exec"]
    assert run[-3:] == ["sh", "-c", "kill -HUP 1"]
    # The log has when each step ended, in order (bench/devloop.py reads it).
    (line,) = [x for x in devloop.log_file().read_text().splitlines() if x.startswith("[dev] sync marks: ")]
    marks = [pair.split("=") for pair in line.removeprefix("[dev] sync marks: ").split()]
    assert [what for what, _ in marks] == [
        "cycle",
        "locked",
        "planned",
        "found",
        "copied",
        "restarted",
        "healthy",
    ]
    assert [float(at) for _, at in marks] == sorted(float(at) for _, at in marks)


def test_a_failing_restart_command_is_one_failed_line_and_records_no_sync(
    compose_stack: tuple[Path, FakeBin],
) -> None:
    project, fakes = compose_stack
    edit(project, AGENT)
    stateful = fakes.root / "stateful-docker"  # every other call still goes to the fake daemon
    shutil.copy(fakes.bin_dir / "docker", stateful)
    refuse = 'if [ "$1" = exec ]; then echo "kill: (1) - No such process" >&2; exit 1; fi\n'
    fakes.script("docker", refuse + f'exec "{stateful}" "$@"\n')
    outcome = devloop.cycle(ENV, project, [AGENT])
    assert not outcome.ok
    assert "FAILED: live sync of 'session-agent' failed running `kill -HUP 1` in container " in outcome.line()
    assert "No such process" in outcome.line()
    assert not devstate.read(ENV)["session-agent"].synced  # tried, failed: never shown as synced
    assert not [c for c in read_calls(fakes.log) if c["tool"] == "docker-compose" and "up" in c["argv"]]


def test_a_failing_build_keeps_what_runs_and_the_next_fix_is_healthy(
    compose_stack: tuple[Path, FakeBin],
) -> None:
    project, fakes = compose_stack
    before = refs(project)
    dockerfile = project / "demo/docker/Dockerfile.service"
    good = dockerfile.read_text()
    dockerfile.write_text(good + "RUN exit 3\n")
    fakes.script("docker", 'if [ "$1" = build ]; then echo "RUN exit 3: exit code 3" >&2; exit 1; fi\n')
    failed = devloop.cycle(ENV, project, ["demo/docker/Dockerfile.service"])
    assert not failed.ok and "FAILED: image " in failed.line()
    assert not [c for c in read_calls(fakes.log) if c["tool"] == "docker-compose" and "up" in c["argv"]]
    assert refs(project) == before  # nothing recorded: the running containers keep their images


@pytest.mark.parametrize(("strategy", "loaded"), [("docker-env", 0), ("image-load", 1)])
def test_minikube_one_change_applies_one_deployment_and_a_no_op_cycle_mutates_nothing(
    project: Path,
    fake_cluster: FakeCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    strategy: str,
    loaded: int,
) -> None:
    """Both ways of getting an image into Minikube: built in its daemon (docker-env, nothing
    loaded) or built here and the one rebuilt image loaded (image-load)."""
    stack: Stack = make_stack(project, fake_cluster, tmp_path, monkeypatch, strategy)
    assert stack.up().code == 0
    stack.cluster.clear_calls()
    monkeypatch.chdir(project)
    built = len(stack.docker.builds())
    edit(project, "demo/srvthreds_demo/engine.py")
    outcome = devloop.cycle(stack.env, project, ["demo/srvthreds_demo/engine.py"])
    assert outcome.ok, outcome.line()
    applies = [c["argv"] for c in stack.cluster.mutating_calls("kubectl")]
    assert len(applies) == 1 and "apply" in applies[0]
    assert stack.cluster.revision("engine", NS) == 2
    assert stack.cluster.revision("session-agent", NS) == 1
    assert stack.cluster.revision("persistence-agent", NS) == 1
    assert len(stack.docker.builds()) == built + 2  # the builder (for engine) and engine
    assert len(stack.loads()) == loaded and all("srvthreds/engine:" in ref for ref in stack.loads())
    stack.cluster.clear_calls()
    again = devloop.cycle(stack.env, project, ["demo/srvthreds_demo/engine.py"])  # the same bytes
    assert again.ok, again.line()
    assert stack.cluster.mutating_calls() == []


def test_a_missing_watcher_is_one_sentence_before_the_stack_comes_up(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakes = FakeBin(project.parent / "fakes")
    state = project.parent / "docker-state"
    fake_docker.install(fakes.bin_dir, state, log=fakes.log)
    fake_compose.install(fakes.bin_dir, state, log=fakes.log)
    fakes.activate(monkeypatch)
    monkeypatch.setitem(sys.modules, "watchfiles", None)  # an install from before `doit dev`
    result = run_doit(project, "dev", f"env={ENV}")
    assert result.code != 0
    assert "the Python package watchfiles is not installed" in result.out, result.out
    assert "Traceback" not in result.out
    assert read_calls(fakes.log) == []  # nothing built, nothing started
    assert not (project / devloop.loop_lock()).exists()  # the loop was not taken either


def test_a_cloud_environment_is_refused_in_one_sentence(project: Path) -> None:
    env = next(p.stem for p in (project / "environments").glob("*.yaml") if "cloud:" in p.read_text())
    result = run_doit(project, "dev", f"env={env}")
    assert result.code != 0 and "`doit dev` runs only local environments" in result.out
    assert os.environ.get("PATH")  # (the run left the environment alone)
