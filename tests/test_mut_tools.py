"""The tools door, edges the mutation benchmark found unguarded (bench/mutation.py tools).

Programs are faked at the PATH boundary (tests/test_tools.py's `bin_dir` and `fake_program`).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tasks import tools
from tasks.errors import StackError, ToolError
from tests.test_tools import bin_dir, fake_program

__all__ = ["bin_dir"]  # the fixture, re-exported for this module's tests


@pytest.mark.parametrize("stderr, fix", [
    ("Bind for 0.0.0.0:8080 failed: port is already allocated", tools.PORT_IN_USE),
    ("listen tcp :5672: bind: address already in use", tools.PORT_IN_USE),
    ("permission denied while trying to connect to the Docker daemon socket", tools.PERMISSION_DENIED),
    ('error: context "minikube" does not exist', "kubectl has no context for this cluster"),
    ("The connection to the server localhost:8080 was refused", "The Kubernetes API server is not reachable"),
    ("something else went wrong", None),
])
def test_known_failures_get_their_one_sentence_fix(bin_dir: Path, stderr: str, fix: str | None) -> None:
    fake_program(bin_dir, "docker", f"echo '{stderr}' >&2; exit 1\n")
    with pytest.raises(ToolError) as info:
        tools.run("docker", "compose", "up")
    assert type(info.value) is ToolError
    if fix is None:
        assert info.value.fix is None
    else:
        assert info.value.fix is not None and info.value.fix.startswith(fix)


def test_compose_saying_the_daemon_is_down_is_the_daemon_sentence(bin_dir: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.0.0.9:2375")
    fake_program(bin_dir, "docker-compose",
                 'echo "failed to connect to the docker API at tcp://10.0.0.9:2375" >&2; exit 1\n')
    with pytest.raises(tools.DaemonDown) as info:
        tools.run("docker-compose", "ps")
    assert info.value.render() == tools.DAEMON_DOWN_FIX.replace("reachable:", "reachable at tcp://10.0.0.9:2375:")
    monkeypatch.delenv("DOCKER_HOST")
    assert tools.daemon_down_sentence() == tools.DAEMON_DOWN_FIX


def test_success_is_exit_zero_with_both_streams(bin_dir: Path) -> None:
    fake_program(bin_dir, "kubectl", 'echo out; echo err >&2\n')
    assert tools.run("kubectl", "version") == tools.Result(0, "out\n", "err\n")


def test_a_command_over_its_timeout_is_one_clean_error(bin_dir: Path) -> None:
    fake_program(bin_dir, "kubectl", "exec sleep 30\n")
    with pytest.raises(StackError) as info:
        tools.run("kubectl", "wait", timeout=0.5)
    assert type(info.value) is StackError
    assert "`kubectl wait` did not finish within 0.5 s" in str(info.value)


def test_a_streamed_step_is_collapsed_into_a_log_and_a_verdict(bin_dir: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STACKBUILD_VERBOSE", raising=False)
    fake_program(bin_dir, "docker", 'echo "Step 1/2"; echo "Step 2/2"\n')
    result = tools.run("docker", "build", ".", prefix="engine")
    assert result.stdout == "Step 1/2\nStep 2/2\n"
    shown = capsys.readouterr().out
    assert "[engine] done (2 lines, full log:" in shown and "Step 1/2" not in shown

    fake_program(bin_dir, "docker", 'echo "Step 1/1"; echo "no space left" >&2; exit 1\n')
    with pytest.raises(ToolError) as info:
        tools.run("docker", "build", ".", prefix="engine")
    assert "no space left" in str(info.value)
    assert "[engine] FAILED (2 lines, full log:" in capsys.readouterr().out


def test_run_foreground_returns_the_exit_code(bin_dir: Path) -> None:
    fake_program(bin_dir, "kubectl", "exit 4\n")
    assert tools.run_foreground("kubectl", "port-forward") == 4
    fake_program(bin_dir, "kubectl", "exit 0\n")
    assert tools.run_foreground("kubectl", "port-forward") == 0


def test_terraform_failure_raises_unless_asked_not_to(tmp_path: Path) -> None:
    # An empty directory is a valid configuration; `validate` with an unknown flag is not.
    with pytest.raises(ToolError) as info:
        tools.terraform("validate", "-no-such-flag", cwd=tmp_path)
    assert info.value.cmd[:2] == ["terraform", f"-chdir={tmp_path}"] and info.value.code != 0
    result = tools.terraform("validate", "-no-such-flag", cwd=tmp_path, check=False)
    assert result.code != 0


def test_terraform_streams_lines_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = tools.terraform("version", cwd=tmp_path, stream="version")
    assert result.code == 0 and "Terraform v" in result.stdout
    assert "Terraform v" in capsys.readouterr().out


def test_venv_bin_is_not_added_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    venv_bin = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", os.pathsep.join([venv_bin, "/usr/bin"]))
    assert tools.search_path() == os.pathsep.join([venv_bin, "/usr/bin"])
