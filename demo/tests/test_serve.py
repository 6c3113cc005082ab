"""serve.forever: the service in a child that SIGHUP replaces, run for real in a process of
its own (it blocks signals and forks, which pytest's own process must not)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from srvthreds_demo import serve

DEMO_ROOT = Path(__file__).resolve().parent.parent
# The child writes its pid to the file named by argv[1] and then runs what the file named by
# argv[2] says: "wait" (a long-lived service), "fail" (code that does not import) or "end 3".
SCRIPT = """
import os, sys, time
from srvthreds_demo import serve

def child(name):
    with open(sys.argv[1], "a") as out:
        out.write(f"{os.getpid()}\\n")
    what = open(sys.argv[2]).read().split()
    if what[0] == "fail":
        raise SyntaxError("invalid syntax")
    if what[0] == "end":
        return int(what[1])
    time.sleep(60)
    return 0

sys.exit(serve.forever("srvthreds_demo.anything", main=child))
"""


class Supervisor:
    def __init__(self, tmp: Path, what: str) -> None:
        self.pids, self.what, self.err = tmp / "pids", tmp / "what", tmp / "err"
        self.what.write_text(what)
        env = {**os.environ, "PYTHONPATH": str(DEMO_ROOT)}
        with self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", SCRIPT, str(self.pids), str(self.what)], env=env, stderr=err
            )

    def children(self, count: int) -> list[int]:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pids = [int(x) for x in self.pids.read_text().split()] if self.pids.exists() else []
            if len(pids) >= count:
                return pids
            time.sleep(0.02)
        raise AssertionError(f"{count} children never started")

    def send(self, sig: int) -> None:
        self.proc.send_signal(sig)


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[list[Supervisor]]:
    made: list[Supervisor] = []
    yield made
    for each in made:
        if each.proc.poll() is None:
            each.proc.kill()
            each.proc.wait()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): it is gone once its state says so.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rpartition(")")[2].split()[0] != "Z"


def test_a_child_that_ends_before_any_reload_ends_the_supervisor_with_its_code(
    tmp_path: Path, supervisor: list[Supervisor]
) -> None:
    run = Supervisor(tmp_path, "end 3")
    supervisor.append(run)
    assert run.proc.wait(timeout=20) == 3


def test_sighup_replaces_the_child_and_sigterm_ends_both_with_0(
    tmp_path: Path, supervisor: list[Supervisor]
) -> None:
    run = Supervisor(tmp_path, "wait")
    supervisor.append(run)
    (first,) = run.children(1)
    run.send(signal.SIGHUP)
    second = run.children(2)[1]
    assert second != first and not alive(first) and alive(second)
    run.send(signal.SIGTERM)
    assert run.proc.wait(timeout=5) == 0
    assert not alive(second)


def test_after_a_reload_a_failing_child_leaves_the_supervisor_waiting_for_the_next(
    tmp_path: Path, supervisor: list[Supervisor]
) -> None:
    run = Supervisor(tmp_path, "wait")
    supervisor.append(run)
    run.children(1)
    run.what.write_text("fail")
    run.send(signal.SIGHUP)
    failed = run.children(2)[1]
    deadline = time.monotonic() + 10
    while alive(failed) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    assert run.proc.poll() is None  # still there, waiting for a fixed save
    run.what.write_text("wait")
    run.send(signal.SIGHUP)
    assert alive(run.children(3)[2])
    run.send(signal.SIGINT)
    assert run.proc.wait(timeout=5) == 0
    err = run.err.read_text()
    assert "SyntaxError: invalid syntax" in err and "waiting for the next SIGHUP" in err


def test_fresh_imports_the_module_as_the_disk_has_it_now(tmp_path: Path) -> None:
    import srvthreds_demo

    (tmp_path / "probe_module.py").write_text("VERSION = 1\n")
    srvthreds_demo.__path__.append(str(tmp_path))
    try:
        assert serve.fresh("srvthreds_demo.probe_module").VERSION == 1
        (tmp_path / "probe_module.py").write_text("VERSION = 2  # saved again\n")
        assert serve.fresh("srvthreds_demo.probe_module").VERSION == 2
        assert sys.modules["srvthreds_demo.serve"] is serve  # the supervisor itself stays
    finally:
        srvthreds_demo.__path__.remove(str(tmp_path))
        sys.modules.pop("srvthreds_demo.probe_module", None)
