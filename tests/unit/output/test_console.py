"""Every printed line goes through tasks/output/console.py: stdout for the task's own lines,
stderr for what the person at the terminal must see even when stdout is redirected."""

from __future__ import annotations

import pytest

from tasks.output import console


def test_a_step_is_one_indented_line_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    console.step("image engine built")
    assert capsys.readouterr() == ("  image engine built\n", "")


def test_a_block_is_shown_as_given(capsys: pytest.CaptureFixture[str]) -> None:
    console.show("a  b\nc  d", end="")
    console.show("")
    assert capsys.readouterr() == ("a  b\nc  d\n", "")


def test_notes_errors_and_sentences_go_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    console.note("the database was moved aside")
    console.error("no such environment")
    console.say("Interrupted: nothing ran.")
    assert capsys.readouterr() == (
        "",
        "NOTE: the database was moved aside\nERROR: no such environment\nInterrupted: nothing ran.\n",
    )
