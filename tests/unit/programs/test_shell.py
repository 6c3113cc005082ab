"""tasks/programs/shell.py: a user's command line (an environment hook) run by `sh -c`, its output
collapsed under a label and kept in .build/logs/, its failure a ToolError with the output's tail."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import ToolError
from tasks.programs import shell


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # .build/logs/ is relative
    monkeypatch.delenv("STACKBUILD_VERBOSE", raising=False)
    return tmp_path


def test_a_command_line_runs_in_a_shell_and_its_output_is_collapsed_under_the_label(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run("echo one > made.txt && echo two; echo three", prefix="hook")
    assert (work / "made.txt").read_text() == "one\n"  # redirection and && are the shell's
    assert capsys.readouterr().out == "[hook] done (2 lines, full log: .build/logs/hook.log)\n"
    assert (work / ".build/logs/hook.log").read_text() == "two\nthree\n"


def test_a_failing_command_line_is_a_tool_error_with_its_exit_code_and_output(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ToolError) as failed:
        shell.run("echo about to fail >&2; exit 3", prefix="hook")
    assert failed.value.cmd == ["sh", "-c", "echo about to fail >&2; exit 3"]
    assert failed.value.code == 3
    assert "about to fail" in str(failed.value)
    assert "[hook] FAILED (1 lines, full log: .build/logs/hook.log)" in capsys.readouterr().out
