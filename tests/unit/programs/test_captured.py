"""tasks/programs/captured.py: a program started with its output captured whole, real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tasks.programs.captured import Captured

ENV = {"PATH": os.environ.get("PATH", "")}


def started(script: str, *, data: bytes | None = None, timeout: float | None = None) -> Captured:
    return Captured(["sh", "-c", script], cwd=None, env=ENV, data=data, timeout=timeout)


def test_both_streams_the_input_and_the_exit_code_come_back() -> None:
    child = started("cat; echo oops >&2; exit 3", data=b"in\n")
    child.wait()
    assert (child.stdout, child.stderr, child.code) == (b"in\n", b"oops\n", 3)
    assert child.process.pid == child.pid and not child.is_alive()


def test_it_runs_in_its_own_process_group() -> None:
    child = started("sleep 5")
    try:
        assert os.getpgid(child.pid) == child.pid != os.getpgid(0)  # a terminal's Ctrl-C is ours alone
    finally:
        child.kill()


def test_a_program_over_its_timeout_raises_and_can_be_killed_with_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    child = started(f"sleep 30 & echo $! > {pids}; echo $$ >> {pids}; wait", timeout=0.5)
    begun = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        child.wait()
    assert child.is_alive()
    child.kill()
    assert time.monotonic() - begun < 10
    for pid in map(int, pids.read_text().split()):  # the shell reaped, its sleep gone with it
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _exists(pid):
            time.sleep(0.05)
        assert not _exists(pid), pid


def test_a_signal_reaches_it_and_it_is_seen_to_stop() -> None:
    child = started("trap 'exit 7' TERM; while :; do sleep 0.05; done")
    time.sleep(0.3)  # its trap is set
    child.process.signal(15)
    deadline = time.monotonic() + 10
    while child.is_alive() and time.monotonic() < deadline:
        pass
    assert child.code == 7


def test_output_written_while_it_stops_never_blocks_it() -> None:
    # More than a pipe holds (64 KiB), written after SIGTERM: is_alive reads it meanwhile.
    script = (
        f'trap \'{sys.executable} -c "print(\\"x\\" * 300000)"; exit 0\' TERM; while :; do sleep 0.05; done'
    )
    child = started(script)
    time.sleep(0.3)
    child.process.signal(15)
    deadline = time.monotonic() + 10
    while child.is_alive() and time.monotonic() < deadline:
        pass
    assert child.code == 0 and len(child.stdout) > 300000


def test_a_finished_or_killed_program_is_not_alive() -> None:
    done = started("exit 0")
    done.wait()
    assert done.is_alive() is False  # a bool, not merely falsy
    killed = started("sleep 30", data=b"never read\n")
    killed.kill()  # its pipes are closed, stdin never read: asked from its exit status
    assert killed.is_alive() is False and killed.code == -9
    assert killed.is_alive() is False  # and again (subprocess raised AttributeError the second time)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and ") Z " not in Path(f"/proc/{pid}/stat").read_text()
