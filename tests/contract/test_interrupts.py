"""Ctrl-C and SIGTERM stop a run with one sentence, never a traceback, and leave nothing that
the next run cannot finish. Real doit processes on a project copy."""

from __future__ import annotations

import fcntl
import random
import signal
import time
from pathlib import Path

import pytest

from tasks.store import state
from testing.processes import Doit
from testing.project import snapshot

GENERATED = ("k8s", "compose", "terraform")


def test_ctrl_c_while_waiting_for_the_lock_says_nothing_ran(project: Path) -> None:
    path = project / state.lock_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        waiting = Doit(project, "render")
        waiting.wait_for("Another run holds this checkout: waiting for")
        waiting.process.send_signal(signal.SIGINT)
        code, out = waiting.finish()
    assert code == 130, out
    assert "Interrupted while waiting for the other run: nothing ran." in out, out
    assert "task that was running" not in out and "Traceback" not in out, out
    assert ".  render" not in out  # no task started


def edit_stack(project: Path, level: str) -> None:
    path = project / "environments/stack.yaml"
    text = path.read_text()
    for old in ("LOG_LEVEL: info", "LOG_LEVEL: warn", "LOG_LEVEL: debug"):
        text = text.replace(old, f"LOG_LEVEL: {level}")
    path.write_text(text)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_killed_runs_converge_to_the_same_output(project: Path, sig: signal.Signals) -> None:
    """A signal at a random moment of a render (the randomness is the point): whatever it
    interrupts, the next run finishes the work, and a fresh render agrees with it."""
    assert Doit(project, "render").finish()[0] == 0
    rng = random.Random(sig.value)
    levels = ["warn", "debug", "info"]
    for i in range(3):
        edit_stack(project, levels[i])
        run = Doit(project, "render")
        run.wait_for("render:")  # doit is running tasks (its own start-up is not ours)
        time.sleep(rng.uniform(0.0, 0.4))  # a random moment to interrupt, not a wait for a state
        run.process.send_signal(sig)
        code, out = run.finish()
        assert "Traceback" not in out, out
        if sig != signal.SIGKILL and code != 0:
            # -2: exits as interrupted (130); a signal in shutdown ends it as sent.
            assert code in (1, 2, -signal.SIGINT.value, -sig.value), out
    code, out = Doit(project, "render").finish()
    assert code == 0, out
    edited = snapshot(project, *GENERATED)
    (project / ".build").rename(project.parent / "old-build")
    assert Doit(project, "-a", "render").finish()[0] == 0
    assert snapshot(project, *GENERATED) == edited
    assert not [p for p in project.rglob("*.tmp")]
