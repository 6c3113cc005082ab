"""The tools door: exact command lines, clean errors, and the one-sentence fixes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tasks.errors import StackError, ToolError
from tasks.programs import tools
from testing import harness


def fake_program(bin_dir: Path, name: str, script: str) -> None:
    harness.script(bin_dir, name, script)


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    venv_bin = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", os.pathsep.join([str(folder), venv_bin, "/usr/bin", "/bin"]))
    return folder


def test_missing_program_names_it_and_how_to_install(bin_dir: Path) -> None:
    with pytest.raises(StackError) as info:
        tools.run("minikube", "status")
    assert str(info.value) == (
        "`minikube` is not installed or not on PATH.\n"
        "Fix: install minikube: https://minikube.sigs.k8s.io/docs/start/"
    )


def test_daemon_down_is_one_sentence_with_the_fix(bin_dir: Path) -> None:
    fake_program(
        bin_dir,
        "docker",
        'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock.'
        ' Is the docker daemon running?" >&2; exit 1\n',
    )
    with pytest.raises(ToolError) as info:
        tools.run("docker", "image", "ls")
    assert info.value.cmd == ["docker", "image", "ls"] and info.value.code == 1
    assert info.value.fix is not None and info.value.fix.startswith("The Docker daemon is not running")


def test_failure_shows_command_exit_code_and_stderr_tail(bin_dir: Path) -> None:
    fake_program(bin_dir, "docker", 'for i in $(seq 1 30); do echo "line $i" >&2; done; exit 7\n')
    with pytest.raises(ToolError) as info:
        tools.run("docker", "build", ".")
    text = str(info.value)
    assert text.startswith("command failed (exit 7): docker build .")
    assert "line 30" in text and "line 10" not in text  # the last 20 lines only


def test_streaming_prefixes_each_line_and_still_captures(bin_dir: Path) -> None:
    fake_program(bin_dir, "docker", 'echo "Step 1/2"; echo "Step 2/2"\n')
    seen: list[str] = []
    result = tools.run("docker", "build", ".", prefix="engine", echo=seen.append)
    assert seen == ["[engine] Step 1/2", "[engine] Step 2/2"]
    assert result.stdout == "Step 1/2\nStep 2/2\n"


def test_input_env_and_check_false(bin_dir: Path) -> None:
    fake_program(bin_dir, "kubectl", 'cat; echo "ctx=$KUBECONTEXT"; exit 3\n')
    result = tools.run(
        "kubectl", "apply", "-f", "-", input="kind: X\n", env={"KUBECONTEXT": "c"}, check=False
    )
    assert result == tools.Result(3, "kind: X\nctx=c\n", "")


def test_venv_bin_comes_first_unless_path_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    venv_bin = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", "/usr/bin")
    assert tools.search_path().split(os.pathsep)[0] == venv_bin
    monkeypatch.setenv("PATH", os.pathsep.join(["/fakes", venv_bin, "/usr/bin"]))
    assert tools.search_path().split(os.pathsep)[0] == "/fakes"
