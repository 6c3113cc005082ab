"""tasks/output/progress.py: long tool output collapsed to a counter and the last line, the full log
under .build/logs/."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from tasks.output import console, progress
from tasks.programs import tools
from testing import harness


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STACKBUILD_VERBOSE", raising=False)


def test_plain_stream_gets_one_closing_line_and_the_log_has_everything() -> None:
    out = io.StringIO()
    sink = progress.Collapsed("engine", stream=out)
    for i in range(50):
        sink(f"step {i}\n")
    sink.close(ok=True)
    assert out.getvalue() == "[engine] done (50 lines, full log: .build/logs/engine.log)\n"
    assert Path(".build/logs/engine.log").read_text().splitlines()[-1] == "step 49"


def test_a_hidden_value_is_masked_in_the_step_log_and_on_the_terminal() -> None:
    console.hide(["pw-7a1"])
    out = Tty()
    sink = progress.Collapsed("job-seed", stream=out)
    sink("seeding with pw-7a1\n")
    sink.close(ok=False)
    assert Path(".build/logs/job-seed.log").read_text() == "seeding with ********\n"
    assert "[job-seed] 1 lines: seeding with ********" in out.getvalue() and "pw-7a1" not in out.getvalue()


def test_plain_stream_prints_progress_now_and_then(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "PLAIN_EVERY", 0.0)
    out = io.StringIO()
    sink = progress.Collapsed("base", stream=out)
    sink("I: Retrieving Release\n")
    assert out.getvalue() == "[base] 1 lines so far: I: Retrieving Release\n"
    sink.close(ok=True)


def test_terminal_redraws_one_line_with_count_and_last_line() -> None:
    out = Tty()
    sink = progress.Collapsed("engine", stream=out)
    sink("Step 1/2\n")
    sink("Step 2/2\n")
    assert out.getvalue().endswith("\r\x1b[K[engine] 2 lines: Step 2/2")
    sink.close(ok=False)
    assert out.getvalue().endswith("\r\x1b[K[engine] FAILED (2 lines, full log: .build/logs/engine.log)\n")


def test_verbose_shows_every_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKBUILD_VERBOSE", "1")
    out = io.StringIO()
    sink = progress.Collapsed("engine", stream=out)
    sink("a\n")
    sink("b\n")
    sink.close(ok=True)
    assert out.getvalue() == "[engine] a\n[engine] b\n"


def test_streamed_tool_output_is_collapsed_and_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    harness.script(bin_dir, "docker", 'for i in $(seq 1 200); do echo "line $i"; done\n')
    monkeypatch.setenv(
        "PATH", os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), "/usr/bin", "/bin"])
    )
    result = tools.run("docker", "build", ".", prefix="engine")
    assert result.stdout.count("\n") == 200
    shown = capsys.readouterr().out
    assert shown == "[engine] done (200 lines, full log: .build/logs/engine.log)\n"
    assert len(Path(".build/logs/engine.log").read_text().splitlines()) == 200


@pytest.mark.parametrize(
    "value, on", [("", False), ("0", False), ("false", False), ("No", False), ("1", True), ("yes", True)]
)
def test_verbose_switch(monkeypatch: pytest.MonkeyPatch, value: str, on: bool) -> None:
    monkeypatch.setenv("STACKBUILD_VERBOSE", value)
    assert progress.verbose() is on


def test_log_path_is_safe_and_never_empty() -> None:
    assert progress.log_path("apply dev/x") == progress.LOGS / "apply_dev_x.log"
    assert progress.log_path("") == progress.LOGS / "step.log"


class _Closed(io.StringIO):
    def isatty(self) -> bool:
        raise ValueError("I/O operation on closed file")


def test_is_tty() -> None:
    assert progress.is_tty(Tty()) is True
    assert progress.is_tty(io.StringIO()) is False
    assert progress.is_tty(_Closed()) is False


def test_collapsed_on_a_terminal_redraws_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STACKBUILD_VERBOSE", raising=False)
    out = Tty()
    step = progress.Collapsed("engine", stream=out)
    step("Step 1\n")
    step("   \n")
    step.close(ok=True)
    text = out.getvalue()
    assert "\r\x1b[K[engine] 1 lines: Step 1" in text and "[engine] 2 lines: Step 1" in text
    assert text.endswith("\r\x1b[K[engine] done (2 lines, full log: .build/logs/engine.log)\n")
    assert (tmp_path / ".build" / "logs" / "engine.log").read_text() == "Step 1\n   \n"


def test_collapsed_elsewhere_prints_progress_at_most_every_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STACKBUILD_VERBOSE", raising=False)
    out = io.StringIO()
    step = progress.Collapsed("db", stream=out)
    step("first")
    assert out.getvalue() == ""  # not yet: the interval has not passed
    step.shown_at -= progress.PLAIN_EVERY
    step("second")
    step("third")
    step.close(ok=False)
    assert out.getvalue() == (
        "[db] 2 lines so far: second\n[db] FAILED (3 lines, full log: .build/logs/db.log)\n"
    )


def test_collapsed_verbose_prints_every_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STACKBUILD_VERBOSE", "1")
    out = Tty()
    step = progress.Collapsed("db", stream=out)
    step("a\n")
    step.close(ok=True)
    assert out.getvalue() == "[db] a\n"
