"""Small modules' edges found unguarded by bench/mutation.py: envfile, progress."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.output import progress
from tasks.store import envfile


def test_envfile_read_handles_comments_exports_quotes_and_missing(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    assert envfile.read(path) == {}
    path.write_text("# comment\n\nexport A = 'x=y'\nB=\"two words\"\nNOEQUALS\n  C=3  \n#D=4\n")
    assert envfile.read(path) == {"A": "x=y", "B": "two words", "C": "3"}


@pytest.mark.parametrize("mode, refused", [(0o600, False), (0o400, False), (0o640, True), (0o604, True)])
def test_envfile_refuses_a_secret_file_others_can_read(tmp_path: Path, mode: int, refused: bool) -> None:
    path = tmp_path / ".env"
    path.write_text("A=1\n")
    path.chmod(mode)
    if refused:
        with pytest.raises(StackError, match=f"readable by others \\(mode {mode:o}\\)"):
            envfile.read_secrets(path, "dev", ["A"])
    else:
        assert envfile.read_secrets(path, "dev", ["A"]) == {"A": "1"}
    envfile.check_private(tmp_path / "missing")  # nothing to refuse


def test_envfile_placeholders_only_in_local(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("A=change-me\nB=ChangeMe\nC=real\n")
    path.chmod(0o600)
    assert envfile.read_secrets(path, "local", ["A", "B", "C"])["A"] == "change-me"
    with pytest.raises(StackError) as info:
        envfile.read_secrets(path, "dev", ["A", "B", "C"])
    assert str(info.value).startswith(
        f"{path}: A, B still hold the placeholder 'change-me' (environment dev)"
    )
    assert envfile.read_secrets(path, "dev", ["C"]) == {"A": "change-me", "B": "ChangeMe", "C": "real"}


@pytest.mark.parametrize(
    "value, on", [("", False), ("0", False), ("false", False), ("No", False), ("1", True), ("yes", True)]
)
def test_verbose_switch(monkeypatch: pytest.MonkeyPatch, value: str, on: bool) -> None:
    monkeypatch.setenv("STACKBUILD_VERBOSE", value)
    assert progress.verbose() is on


def test_log_path_is_safe_and_never_empty() -> None:
    assert progress.log_path("apply dev/x") == progress.LOGS / "apply_dev_x.log"
    assert progress.log_path("") == progress.LOGS / "step.log"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Closed(io.StringIO):
    def isatty(self) -> bool:
        raise ValueError("I/O operation on closed file")


def test_is_tty() -> None:
    assert progress.is_tty(_Tty()) is True
    assert progress.is_tty(io.StringIO()) is False
    assert progress.is_tty(_Closed()) is False


def test_collapsed_on_a_terminal_redraws_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STACKBUILD_VERBOSE", raising=False)
    out = _Tty()
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
    out = _Tty()
    step = progress.Collapsed("db", stream=out)
    step("a\n")
    step.close(ok=True)
    assert out.getvalue() == "[db] a\n"
