"""serve.forever: the service in a child that SIGHUP replaces, run for real in a process of
its own (it blocks signals and forks, which pytest's own process must not)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from srvthreds_demo import serve

DEMO_ROOT = Path(__file__).resolve().parent.parent
# The child writes its pid to the file named by argv[1] (once its signal handlers are set) and
# runs what the file named by argv[2] says: "wait" (a long-lived service), "fail" (code that
# does not import), "end 3",
# "term 5" (stops with 5 on SIGTERM), "deaf" (ignores SIGTERM and SIGINT) or "orphan" (leaves
# a process that writes its pid too and ends 0.5 s later); while it says "nofork", a fork fails.
# argv[3]: the grace ("" for the default); then the libraries to preload. The supervisor is a
# child subreaper, so orphans come to it as they come to PID 1 in a container.
SCRIPT = """
import ctypes, os, signal, sys, time
from srvthreds_demo import serve

def note():
    with open(sys.argv[1], "a") as out:
        out.write(f"{os.getpid()}\\n")

def child(name):
    what = open(sys.argv[2]).read().split()
    if what[0] == "term":
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(int(what[1])))
    if what[0] == "deaf":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    note()  # after the handlers: a test signals the child once it sees its pid
    if what[0] == "orphan":
        if os.fork() == 0:
            note()
            time.sleep(0.5)
            os._exit(0)
        what = ["fail"]
    if what[0] == "fail":
        raise SyntaxError("invalid syntax")
    if what[0] == "end":
        return int(what[1])
    time.sleep(60)
    return 0

real_fork = os.fork

def fork():  # "nofork": the system has no process left to give (EAGAIN)
    if open(sys.argv[2]).read().split()[0] == "nofork":
        raise BlockingIOError(11, "Resource temporarily unavailable")
    return real_fork()

os.fork = fork
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
if sys.argv[3]:
    serve.GRACE = float(sys.argv[3])
sys.exit(serve.forever("srvthreds_demo.anything", main=child, preload=sys.argv[4:]))
"""


class Supervisor:
    def __init__(self, tmp: Path, what: str, *, grace: str = "", preload: tuple[str, ...] = ()) -> None:
        self.pids, self.what, self.err = tmp / "pids", tmp / "what", tmp / "err"
        self.what.write_text(what)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(DEMO_ROOT), str(tmp)])}
        argv = [sys.executable, "-c", SCRIPT, str(self.pids), str(self.what), grace, *preload]
        with self.err.open("wb") as err:
            self.proc = subprocess.Popen(argv, env=env, stderr=err)

    def children(self, count: int) -> list[int]:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pids = [int(x) for x in self.pids.read_text().split()] if self.pids.exists() else []
            if len(pids) >= count:
                return pids
            if self.proc.poll() is not None:
                raise AssertionError(f"the supervisor ended with {self.proc.returncode}")
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


def test_sighup_replaces_the_child_and_sigterm_ends_both(
    tmp_path: Path, supervisor: list[Supervisor]
) -> None:
    run = Supervisor(tmp_path, "wait")
    supervisor.append(run)
    (first,) = run.children(1)
    run.send(signal.SIGHUP)
    second = run.children(2)[1]
    assert second != first and not alive(first) and alive(second)
    run.send(signal.SIGTERM)
    assert run.proc.wait(timeout=5) == 128 + signal.SIGTERM  # the child's, as a shell says it
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
    assert run.proc.wait(timeout=5) == 128 + signal.SIGINT
    err = run.err.read_text()
    assert "SyntaxError: invalid syntax" in err and "waiting for the next SIGHUP" in err


def test_a_fork_that_fails_on_reload_leaves_the_supervisor_waiting_for_the_next(
    tmp_path: Path, supervisor: list[Supervisor]
) -> None:
    run = Supervisor(tmp_path, "wait")
    supervisor.append(run)
    (first,) = run.children(1)
    run.what.write_text("nofork")
    run.send(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while "could not be started again" not in run.err.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    err = run.err.read_text()
    assert "could not be started again ([Errno 11] Resource temporarily unavailable)" in err
    assert "Traceback" not in err and run.proc.poll() is None and not alive(first)
    run.what.write_text("wait")
    run.send(signal.SIGHUP)
    assert alive(run.children(2)[1])
    run.send(signal.SIGTERM)
    assert run.proc.wait(timeout=5) == 128 + signal.SIGTERM


def test_a_fork_that_fails_at_start_ends_the_supervisor_with_1_and_a_sentence(
    tmp_path: Path, supervisor: list[Supervisor]
) -> None:
    run = Supervisor(tmp_path, "nofork")
    supervisor.append(run)
    assert run.proc.wait(timeout=20) == 1
    err = run.err.read_text()
    assert "could not be started: [Errno 11] Resource temporarily unavailable" in err
    assert "Traceback" not in err


def test_a_child_killed_by_a_signal_ends_the_supervisor_with_128_plus_the_signal(
    tmp_path: Path, supervisor: list[Supervisor]
) -> None:
    run = Supervisor(tmp_path, "wait")
    supervisor.append(run)
    (child,) = run.children(1)
    os.kill(child, signal.SIGKILL)  # what the OOM killer does
    assert run.proc.wait(timeout=5) == 137


def test_sigterm_reaches_the_child_and_the_supervisor_ends_with_its_code(
    tmp_path: Path, supervisor: list[Supervisor]
) -> None:
    run = Supervisor(tmp_path, "term 5")
    supervisor.append(run)
    run.children(1)
    run.send(signal.SIGTERM)
    assert run.proc.wait(timeout=5) == 5


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace(
    tmp_path: Path, supervisor: list[Supervisor]
) -> None:
    run = Supervisor(tmp_path, "deaf", grace="0.5")
    supervisor.append(run)
    (child,) = run.children(1)
    time.sleep(0.2)  # the child's handlers are in place
    started = time.monotonic()
    run.send(signal.SIGTERM)
    assert run.proc.wait(timeout=5) == 128 + signal.SIGKILL
    assert time.monotonic() - started >= 0.5 and not alive(child)
    assert "did not stop within 0.5 s" in run.err.read_text()


def test_a_second_sigint_kills_the_child_without_waiting_out_the_grace(
    tmp_path: Path, supervisor: list[Supervisor]
) -> None:
    run = Supervisor(tmp_path, "deaf", grace="30")
    supervisor.append(run)
    run.children(1)
    time.sleep(0.2)
    run.send(signal.SIGINT)
    time.sleep(0.2)
    assert run.proc.poll() is None  # waiting for the child
    run.send(signal.SIGINT)
    assert run.proc.wait(timeout=3) == 128 + signal.SIGKILL
    assert "did not stop before a second SIGINT" in run.err.read_text()


def test_orphans_are_reaped_while_no_child_runs(tmp_path: Path, supervisor: list[Supervisor]) -> None:
    run = Supervisor(tmp_path, "wait")
    supervisor.append(run)
    run.children(1)
    run.what.write_text("orphan")
    run.send(signal.SIGHUP)
    orphan = run.children(3)[2]
    gone = Path(f"/proc/{orphan}")
    deadline = time.monotonic() + 3
    while gone.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not gone.exists(), "the orphan stayed a zombie"
    assert run.proc.poll() is None


def test_a_sighup_while_the_libraries_load_reloads_instead_of_ending_the_supervisor(
    tmp_path: Path, supervisor: list[Supervisor]
) -> None:
    loading = tmp_path / "loading"
    (tmp_path / "slow_library.py").write_text(
        f"import time\nopen({str(loading)!r}, 'w').close()\ntime.sleep(1)\n"
    )
    run = Supervisor(tmp_path, "wait", preload=("slow_library",))
    supervisor.append(run)
    deadline = time.monotonic() + 10
    while not loading.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    run.send(signal.SIGHUP)
    # The reload comes as soon as the first child is forked (it may not get to write its pid).
    run.children(1)
    deadline = time.monotonic() + 5
    while "started again" not in run.err.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    reloaded = re.search(r"started again .*\(pid (\d+)\)", run.err.read_text())
    assert reloaded and alive(int(reloaded[1])) and run.proc.poll() is None


def test_signals_back_to_back_leave_one_child_then_none(tmp_path: Path, supervisor: list[Supervisor]) -> None:
    run = Supervisor(tmp_path, "wait")
    supervisor.append(run)
    run.children(1)
    run.send(signal.SIGHUP)
    run.send(signal.SIGHUP)
    time.sleep(1)  # both handled (standard signals may coalesce into one reload)
    started = {int(pid) for pid in re.findall(r"\(pid (\d+)\)", run.err.read_text())}
    every = started | set(run.children(1))
    assert len([pid for pid in every if alive(pid)]) == 1
    run.send(signal.SIGHUP)
    run.send(signal.SIGTERM)  # during the reload: the new child is stopped, not left behind
    assert run.proc.wait(timeout=5) == 128 + signal.SIGTERM
    started = {int(pid) for pid in re.findall(r"\(pid (\d+)\)", run.err.read_text())}
    assert not [pid for pid in started | set(run.children(1)) if alive(pid)]


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
