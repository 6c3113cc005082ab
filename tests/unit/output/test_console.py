"""Every printed line goes through tasks/output/console.py: stdout for the task's own lines,
stderr for what the person at the terminal must see even when stdout is redirected."""

from __future__ import annotations

import threading

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


def test_a_skip_is_said_and_remembered_until_taken(capsys: pytest.CaptureFixture[str]) -> None:
    console.taken()
    console.skipped("no provider mirror")
    console.skipped("checkov is not installed", loud=True)
    out = capsys.readouterr().out
    assert out.startswith(
        "  SKIPPED: no provider mirror\n" + "!" * 100 + "\n  SKIPPED: checkov is not installed\n"
    )
    assert console.taken() == ["no provider mirror", "checkov is not installed"]
    assert console.taken() == []


def test_each_thread_takes_only_its_own_skips() -> None:
    # doit's `-P 2 --parallel-type thread` runs two tasks' actions at once, interleaved.
    barrier = threading.Barrier(2)
    got: dict[str, list[str]] = {}

    def task(name: str) -> None:
        console.taken()
        barrier.wait()
        console.skipped(name)
        barrier.wait()
        got[name] = console.taken()

    threads = [threading.Thread(target=task, args=(name,)) for name in ("checkov", "tf_validate")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert got == {"checkov": ["checkov"], "tf_validate": ["tf_validate"]}


def test_redact_masks_whole_values_only_longest_first() -> None:
    text = "a rabbit ate a carrot; url amqp://u:a@h; key=abc-def abc"
    assert console.redact(text, ["a"]) == (
        "******** rabbit ate ******** carrot; url amqp://u:********@h; key=abc-def abc"
    )
    assert console.redact("k=abc-def abc", ["abc", "abc-def"]) == "k=******** ********"
    assert console.redact("xabcx abc", ["abc", ""]) == "xabcx ********"  # an empty value masks nothing


def test_hidden_values_are_masked_in_every_printed_line_until_forgotten(
    capsys: pytest.CaptureFixture[str],
) -> None:
    console.hide(["pw-1", ""])
    console.step("user app, password pw-1")
    console.error("login refused for pw-1")
    said = capsys.readouterr()
    assert (said.out, said.err) == ("  user app, password ********\n", "ERROR: login refused for ********\n")
    console.forget_hidden()
    console.show("pw-1")
    assert capsys.readouterr().out == "pw-1\n"
