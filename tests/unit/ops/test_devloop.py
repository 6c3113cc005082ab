"""tasks/ops/devloop.py: one line per cycle, a failure that leaves the loop running and
records "failed", the lock held only during a cycle, no cycle for the same bytes saved
again, and Ctrl-C (or a stop) that ends the loop saying how to stop the stack."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.ops import devloop
from tasks.store import devstate, state
from testing import configs
from testing.harness import FakeBin
from testing.project import REPO


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # A docker whose every build fails, as a broken Dockerfile's would.
    fakes = FakeBin(tmp_path / "fakes")
    fakes.script("docker", 'echo "step 2/3: RUN make: exit code 2" >&2; exit 1\n')
    fakes.activate(monkeypatch)
    tmp_path = tmp_path / "project"
    tmp_path.mkdir()
    configs.small_project(tmp_path)
    configs.write(tmp_path, "test.yaml", configs.LOCAL)
    monkeypatch.chdir(tmp_path)  # .build/ is relative
    return tmp_path


def test_the_line_names_the_first_files_what_ran_the_time_and_the_result() -> None:
    ok = devloop.Outcome(("a", "b", "c", "d", "e"), "rebuilt web", 2.345, True)
    assert ok.line() == "[dev] a, b, c (+2 more): rebuilt web in 2.3 s: healthy"
    bad = devloop.Outcome(("a",), "rebuilt web", 1.0, False, "web: unhealthy")
    assert bad.line().endswith("FAILED: web: unhealthy") and "\n" not in bad.line()


def test_the_marks_line_names_each_step_with_its_time() -> None:
    line = devloop.marks_line([("cycle", 1700000000.12345), ("found", 1700000000.5)])
    assert line == "[dev] sync marks: cycle=1700000000.123 found=1700000000.500"


def test_a_long_failure_becomes_one_short_line() -> None:
    text = devloop.one_line(StackError("first\n  second\n" + "x" * 500, fix="do this"))
    assert text.startswith("first | second | x") and len(text) == devloop.SUMMARY and "\n" not in text


def test_the_line_keeps_what_failed_and_the_error_it_names() -> None:
    build = StackError(
        "image web failed to build:\n    E   SyntaxError: invalid syntax\n    ERROR tests/t.py\n"
        "    1 error in 0.3s\n    Removing intermediate container 1f\n    The command returned 1"
    )
    assert devloop.one_line(build) == "image web failed to build: | E   SyntaxError: invalid syntax"
    npm = StackError("image api failed to build:\n  npm ERR! missing script: build\n  exit 1")
    assert devloop.one_line(npm) == "image api failed to build: | npm ERR! missing script: build"
    health = StackError("1 workload(s) not healthy:\n  web: unhealthy\n  last check: refused")
    assert devloop.one_line(health) == "1 workload(s) not healthy: | web: unhealthy | last check: refused"


def test_a_cloud_environment_is_refused_in_one_sentence(project: Path) -> None:
    cfg = configs.load(project, env=configs.cloud_env())
    with pytest.raises(StackError) as info:
        devloop.refuse_cloud(cfg)
    assert "runs only local environments" in info.value.message and "doit deploy" in str(info.value.fix)


def test_a_configuration_error_is_a_failed_cycle_recorded_and_the_lock_given_back(project: Path) -> None:
    (project / "environments/test.yaml").write_text("runtime: compose\nplacement: {pg: nowhere}\n")
    outcome = devloop.cycle("test", project, ["app/main.py"])
    assert not outcome.ok and "test.yaml" in outcome.summary and "dev.log" in outcome.summary
    assert "placement" in devloop.log_file().read_text()
    # The lock is free again: another process's `doit compose_ps` would not wait.
    assert state.lock_file().read_text() == ""


def test_a_failed_build_records_failed_and_keeps_the_last_image(project: Path) -> None:
    devstate.update("test", "web", image="acme/web:old", result="ok")
    outcome = devloop.cycle("test", project, ["app/Dockerfile"])
    assert not outcome.ok and outcome.services == ("web", "migrate") and "web" in outcome.summary
    assert outcome.ran == "rebuild of web, migrate"
    record = devstate.read("test")["web"]
    assert record.result == "failed" and record.image == "acme/web:old"
    assert record.files == ("app/Dockerfile",)


def test_the_same_bytes_saved_again_are_no_change(project: Path) -> None:
    digests = devloop.Digests(project)
    (project / "app/a.py").write_text("1")
    assert digests.changed(["app/a.py"]) == ["app/a.py"]
    digests.settle(["app/a.py"], ok=True)
    assert digests.changed(["app/a.py"]) == []
    (project / "app/a.py").write_text("2")
    assert digests.changed(["app/a.py"]) == ["app/a.py"]
    digests.settle(["app/a.py"], ok=False)  # a failed cycle: saving the same bytes again retries
    assert digests.changed(["app/a.py"]) == ["app/a.py"]


def test_the_loop_runs_a_cycle_per_change_and_stops_saying_how_to_stop_the_stack(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "environments/test.yaml").write_text("runtime: compose\nplacement: {pg: compose}\n")
    stop = threading.Event()
    thread = threading.Thread(target=devloop.run, args=("test", project), kwargs={"stop": stop})
    thread.start()
    time.sleep(0.6)
    (project / "app/main.py").write_text("print(1)\n")
    deadline = time.monotonic() + 30
    while "web" not in devstate.read("test") and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    err = capsys.readouterr().err
    assert "[dev] watching app, environments" in err
    lines = [line for line in err.splitlines() if line.startswith("[dev] app/main.py")]
    # The build failed: one line says so, and the loop went on until stopped.
    assert len(lines) == 1 and "FAILED" in lines[0], err
    assert "`doit compose_down env=test`" in err.splitlines()[-1]


def test_sigterm_ends_the_loop_with_exit_0_within_2_s(project: Path) -> None:
    (project / "environments/test.yaml").write_text("runtime: compose\nplacement: {pg: compose}\n")
    code = (
        "from pathlib import Path; from tasks.cli import exits; exits.install(); "
        "from tasks.ops import devloop; devloop.run('test', Path('.'))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=project, env=env, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    try:
        assert proc.stderr.readline().startswith("[dev] watching app, environments")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code_ = proc.wait(timeout=10)
        assert code_ == 0 and time.monotonic() - started < 2
        assert "(stop it with `doit compose_down env=test`)" in proc.stderr.read()
    finally:
        proc.kill()
        proc.stderr.close()
        proc.wait()
