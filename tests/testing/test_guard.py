"""The guard (testing/guard.py): an unmarked test cannot start a real docker, docker-compose,
kubectl or minikube; fakes, offline commands and marked tests can."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tasks.programs import tools
from testing import harness
from testing.guard import ALLOWED_BY_MARK, Guard, RealProgramBlocked


@pytest.fixture
def real_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Stand-ins for the real programs: plain scripts (no fake marker) that leave a trace when run."""
    bin_dir = tmp_path / "real-bin"
    bin_dir.mkdir()
    for name in ("docker", "docker-compose", "kubectl", "minikube"):
        path = bin_dir / name
        path.write_text(f'#!/bin/sh\necho "$0 $*" >> "{tmp_path / "ran.txt"}"\n')
        path.chmod(0o755)
    monkeypatch.setenv(
        "PATH", os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), "/usr/bin", "/bin"])
    )
    return bin_dir


@pytest.mark.parametrize("program", ["docker", "docker-compose", "kubectl", "minikube"])
def test_an_unmarked_test_cannot_start_a_real_program(
    real_bin: Path, program: str, real_program_guard: Guard
) -> None:
    with pytest.raises(RealProgramBlocked, match=f"real `{program}`"):
        tools.run(program, "ps")
    assert not (real_bin.parent / "ran.txt").exists()  # stopped before it started
    assert len(real_program_guard.blocked) == 1  # remembered, so catching it does not hide it
    real_program_guard.blocked.clear()  # this test wanted it


def test_run_foreground_and_pipelines_through_sh_are_guarded(
    real_bin: Path, real_program_guard: Guard
) -> None:
    with pytest.raises(RealProgramBlocked):
        tools.run_foreground("kubectl", "port-forward", "svc/x", "1:1")
    with pytest.raises(RealProgramBlocked, match="real `docker`"):
        tools.run("sh", "-c", 'tar -C /tmp -c . | docker import - "$1"', "sh", "x:1")
    assert not (real_bin.parent / "ran.txt").exists()
    real_program_guard.blocked.clear()


def test_fakes_and_offline_commands_pass(
    real_bin: Path, fakebin: harness.FakeBin, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stand-in kubectl is "real": only commands that reach no cluster may run it.
    assert tools.run("kubectl", "kustomize", "k8s/base").code == 0
    assert tools.run("kubectl", "version", "--client").code == 0
    assert (real_bin.parent / "ran.txt").read_text().count("kubectl") == 2
    fakebin.script("docker", 'echo "fake $*"\n')
    fakebin.activate(monkeypatch, base=os.environ["PATH"])
    assert tools.run("docker", "ps").stdout == "fake ps\n"
    assert fakebin.argvs("docker") == [["ps"]]


def test_marks_allow_their_programs() -> None:
    assert ALLOWED_BY_MARK["docker"] == {"docker", "docker-compose"}
    docker_test = Guard(ALLOWED_BY_MARK["docker"])
    docker_test.check("docker", ("build", "."))
    docker_test.check("docker-compose", ("up",))
    with pytest.raises(RealProgramBlocked):
        docker_test.check("kubectl", ("apply", "-f", "x.yaml"))
    Guard(ALLOWED_BY_MARK["minikube"]).check("minikube", ("start",))


def test_the_autouse_guard_fails_unmarked_tests_only(pytester: pytest.Pytester, real_bin: Path) -> None:
    pytester.makeconftest('pytest_plugins = ["testing.plugin"]\n')
    pytester.makeini("[pytest]\nmarkers =\n    docker: d\n    minikube: m\n")
    pytester.makepyfile(
        test_inner="""
import pytest
from tasks.programs import tools

def test_unmarked_starts_docker():
    tools.run("docker", "info")

def test_unmarked_swallows_the_block():
    try:
        tools.run("minikube", "status")
    except BaseException:
        pass

@pytest.mark.docker
def test_marked_starts_docker():
    assert tools.run("docker", "info").code == 0
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    # The swallowed block still fails the test (an error at teardown); the blocked call fails
    # at once and again at teardown; the marked test passes.
    result.assert_outcomes(passed=2, failed=1, errors=2)
    result.stdout.fnmatch_lines(["*ERROR test_inner.py::test_unmarked_swallows_the_block*"])
    result.stdout.fnmatch_lines(
        [
            "*test started the real `docker` (docker info)*",
            "*test started the real `minikube` (minikube status)*",
        ]
    )
    assert (real_bin.parent / "ran.txt").read_text().splitlines() == [f"{real_bin / 'docker'} info"]
