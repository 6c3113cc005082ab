"""tasks/ops/devloop.py: one line per cycle, a failure that leaves the loop running and
records "failed", the lock held only during a cycle, no cycle for the same bytes saved
again, and Ctrl-C (or a stop) that ends the loop saying how to stop the stack."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tasks.errors import StackError
from tasks.ops import devloop, devwatch
from tasks.store import devstate, state
from testing import configs
from testing.fakes import compose as fake_compose
from testing.fakes import docker as fake_docker
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


@pytest.fixture(autouse=True)
def no_loop_lock_left() -> Iterator[None]:
    yield
    devloop.release_loop()


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, FakeBin]]:
    """The small project brought up by a configuration cycle on the fake docker and compose,
    with the call log cleared."""
    fakes = FakeBin(tmp_path / "fakes")
    store = tmp_path / "docker-state"
    fake_docker.install(fakes.bin_dir, store, log=fakes.log)
    fake_compose.install(fakes.bin_dir, store, log=fakes.log)
    fakes.activate(monkeypatch)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    root = tmp_path / "project"
    root.mkdir()
    configs.small_project(root)
    configs.write(root, "test.yaml", configs.LOCAL)
    (root / "app" / "src").mkdir()
    (root / "app" / "main.py").write_text("print(1)\n")
    monkeypatch.chdir(root)
    first = devloop.cycle("test", root, ["environments/test.yaml"])
    assert first.ok, first.line()
    fakes.clear_calls()
    yield root, fakes


def ups(fakes: FakeBin) -> list[list[str]]:
    """The services each `docker-compose up` named, in order."""
    out = []
    for argv in fakes.argvs("docker-compose"):
        if "up" in argv:
            rest = argv[argv.index("up") + 1 :]
            out.append(
                [a for i, a in enumerate(rest) if not a.startswith("-") and not rest[i - 1].startswith("--")]
            )
    return out


def builds(fakes: FakeBin) -> list[list[str]]:
    return [argv for argv in fakes.argvs("docker") if argv[:1] == ["build"]]


def add_sync_rule(root: Path) -> None:
    configs.write(
        root,
        "test.yaml",
        {**configs.LOCAL, "services": {"web": {"sync": [{"source": "app/src", "target": "/srv/src"}]}}},
    )


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


# --- the line, the summary, the digests --------------------------------------------------


def test_the_line_names_exactly_three_files_without_a_more_count() -> None:
    line = devloop.Outcome(("a", "b", "c"), "synced web", 0.04, True).line()
    assert line == "[dev] a, b, c: synced web in 0.0 s: healthy"
    four = devloop.Outcome(("a", "b", "c", "d"), "rebuilt web", 10.25, False, "boom").line()
    assert four == "[dev] a, b, c (+1 more): rebuilt web in 10.2 s: FAILED: boom"


def test_a_summary_of_exactly_the_longest_length_is_kept_whole() -> None:
    text = "y" * devloop.SUMMARY
    assert devloop.one_line(StackError(text)) == text
    longer = devloop.one_line(StackError(text + "z"))
    assert longer == "y" * (devloop.SUMMARY - 3) + "..."


def test_without_a_named_error_the_summary_keeps_the_first_and_the_last_two_lines() -> None:
    exc = StackError("web failed its check:\n  one\n  two\n\n  three\n  four\n")
    assert devloop.one_line(exc) == "web failed its check: | three | four"
    assert devloop.one_line(StackError("only this")) == "only this"


def test_the_last_line_that_says_error_is_the_one_kept() -> None:
    exc = StackError("build failed:\n  error: first\n  noise\n  Error: second\n  more noise")
    assert devloop.one_line(exc) == "build failed: | Error: second"


def test_a_removed_file_is_a_change(project: Path) -> None:
    digests = devloop.Digests(project)
    assert digests.changed(["app/gone.py"]) == ["app/gone.py"]
    (project / "app/a.py").write_text("1")
    digests.settle(["app/a.py"], ok=True)
    (project / "app/a.py").unlink()
    assert digests.changed(["app/a.py", "app/Dockerfile"]) == ["app/a.py", "app/Dockerfile"]


def test_a_failed_cycle_forgets_the_last_good_content_so_going_back_to_it_runs_a_cycle(project: Path) -> None:
    digests = devloop.Digests(project)
    (project / "app/a.py").write_text("good")
    digests.settle(["app/a.py"], ok=True)
    (project / "app/a.py").write_text("bad")
    digests.settle(["app/a.py"], ok=False)
    (project / "app/a.py").write_text("good")
    assert digests.changed(["app/a.py"]) == ["app/a.py"]


# --- one loop per checkout ------------------------------------------------------------------


def open_files() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))


def held_elsewhere(path: Path) -> bool:
    """Whether another open file of `path` may not take its lock (another process's view)."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno in (errno.EAGAIN, errno.EACCES)
    finally:
        os.close(fd)
    return False


def test_the_loop_holds_its_lock_naming_itself_and_gives_it_back(project: Path) -> None:
    devloop.loop_lock().parent.mkdir(exist_ok=True)
    devloop.loop_lock().write_text("a much longer line an earlier loop left behind\n")
    devloop.hold_loop("test")
    assert devloop.loop_lock().read_text() == f"pid {os.getpid()}, env=test\n"
    assert held_elsewhere(devloop.loop_lock())
    devloop.hold_loop("test")  # the same process again: it already holds it
    devloop.release_loop()
    assert not held_elsewhere(devloop.loop_lock())


def test_the_lock_folder_is_made_when_missing(project: Path) -> None:
    assert not devloop.loop_lock().parent.exists()
    devloop.hold_loop("test")
    assert held_elsewhere(devloop.loop_lock())


def test_a_second_loop_is_refused_naming_the_first_and_how_to_stop_it(project: Path) -> None:
    path = devloop.loop_lock()
    path.parent.mkdir(exist_ok=True)
    path.write_text("pid 4242, env=test\n")
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        open_before = open_files()
        with pytest.raises(StackError) as info:
            devloop.hold_loop("test")
        assert "already runs in this checkout (pid 4242, env=test)" in info.value.message
        assert "Ctrl-C" in str(info.value.fix)
        assert open_files() == open_before  # its descriptor closed
        path.write_text("")
        with pytest.raises(StackError, match="another process"):
            devloop.hold_loop("test")
    finally:
        os.close(fd)
    devloop.hold_loop("test")  # the first one gone: this one may run
    assert path.read_text().startswith(f"pid {os.getpid()},")


def test_a_lock_that_fails_for_another_reason_is_not_called_a_second_loop(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(fd: int, op: int) -> None:
        raise OSError(errno.ENOLCK, "no locks available")

    monkeypatch.setattr(fcntl, "flock", broken)
    with pytest.raises(OSError) as info:
        devloop.hold_loop("test")
    assert info.value.errno == errno.ENOLCK and not isinstance(info.value, StackError)


def test_prepare_takes_the_loop_lock(project: Path) -> None:
    devloop.prepare("test")
    assert held_elsewhere(devloop.loop_lock())


def test_prepare_names_the_missing_watcher_before_taking_the_lock(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "watchfiles", None)  # not installed
    with pytest.raises(StackError) as info:
        devloop.prepare("test")
    assert "watchfiles" in info.value.message + str(info.value.fix)
    assert not devloop.loop_lock().exists()


# --- environments, lines --------------------------------------------------------------------


def test_a_local_environment_is_not_refused(project: Path) -> None:
    devloop.refuse_cloud(configs.load(project, env=configs.LOCAL))  # raises nothing


def test_the_cloud_refusal_names_the_environment(project: Path) -> None:
    with pytest.raises(StackError, match="and test deploys to the cloud"):
        devloop.refuse_cloud(configs.load(project, env=configs.cloud_env()))


def test_the_start_line_names_the_watched_folders_and_the_environment(project: Path) -> None:
    cfg = configs.load(project, env=configs.LOCAL)
    line = devloop.start_line(cfg, [project / "app", project / "environments"], project)
    assert line == (
        "[dev] watching app, environments for test (Ctrl-C stops the loop; the stack keeps running)"
    )
    assert devloop.start_line(cfg, [], project).startswith("[dev] watching nothing for test ")


def test_the_stop_line_names_the_runtimes_own_down_task(project: Path) -> None:
    compose = configs.load(project, env=configs.LOCAL)
    assert devloop.stop_line(compose) == (
        "[dev] stopped; the stack keeps running (stop it with `doit compose_down env=test`)"
    )
    kube = configs.load(project, env=configs.KUBE)
    assert devloop.stop_line(kube).endswith("(stop it with `doit minikube_down env=test`)")


# --- the services' records --------------------------------------------------------------------


def test_a_good_cycle_records_ok_its_first_files_and_the_new_image(project: Path) -> None:
    devstate.update("test", "web", image="acme/web:old", synced_at=5.0)
    devstate.update("test", "migrate", image="acme/migrate:old", synced_at=5.0)
    before = time.time()
    outcome = devloop.Outcome(
        ("a", "b", "c", "d"), "rebuilt web", 1.23456, True, "", ("web", "migrate"), {"web": "acme/web:new"}
    )
    devloop.record("test", outcome)
    web, migrate = devstate.read("test")["web"], devstate.read("test")["migrate"]
    assert (web.result, web.seconds, web.files, web.summary) == ("ok", 1.23, ("a", "b", "c"), "")
    assert (web.image, web.synced_at) == ("acme/web:new", 0.0)
    assert before <= web.changed_at <= time.time()
    # A service the cycle touched without building (synced): its image and sync time stay.
    assert (migrate.result, migrate.image, migrate.synced_at) == ("ok", "acme/migrate:old", 5.0)


def test_a_failed_cycle_records_failed_with_its_summary(project: Path) -> None:
    devloop.record("test", devloop.Outcome(("a",), "rebuild of web", 0.5, False, "web: boom", ("web",)))
    web = devstate.read("test")["web"]
    assert (web.result, web.summary, web.seconds) == ("failed", "web: boom", 0.5)
    assert set(devstate.read("test")) == {"web"}


# --- cycles on the fake docker and compose ----------------------------------------------------


def test_a_source_change_rebuilds_and_recreates_only_its_services_and_records_ok(
    running: tuple[Path, FakeBin],
) -> None:
    root, fakes = running
    (root / "app/main.py").write_text("print(2)\n")
    before = time.monotonic()
    outcome = devloop.cycle("test", root, ["app/main.py"])
    assert outcome.ok, outcome.line()
    assert 0 <= outcome.seconds <= time.monotonic() - before
    assert outcome.ran == "rebuilt web, migrate" and outcome.services == ("web", "migrate")
    assert set(outcome.refs) == {"web", "migrate"}
    assert outcome.line().startswith("[dev] app/main.py: rebuilt web, migrate in ")
    assert outcome.line().endswith(": healthy")
    assert [next(a for a in b if a.startswith("SERVICE=")) for b in builds(fakes)] == [
        "SERVICE=web",
        "SERVICE=migrate",
    ]
    up = [argv for argv in fakes.argvs("docker-compose") if "up" in argv]
    assert ups(fakes) == [["web"]]  # not the database: the configuration did not change
    assert up[0][up[0].index("--timeout") + 1] == str(devloop.STOP_GRACE)
    runs = [argv for argv in fakes.argvs("docker-compose") if "run" in argv]
    assert len(runs) == 1 and runs[0][-1] == "migrate"  # the job ran again with its new image
    web = devstate.read("test")["web"]
    assert web.result == "ok" and web.image == outcome.refs["web"] and web.files == ("app/main.py",)
    assert state.lock_file().read_text() == ""


def test_a_configuration_change_renders_and_brings_the_databases_up_too(
    running: tuple[Path, FakeBin],
) -> None:
    root, fakes = running
    shutil.rmtree(root / "compose")
    outcome = devloop.cycle("test", root, ["environments/test.yaml"])
    assert outcome.ok, outcome.line()
    assert outcome.ran == "configuration: rendered, rebuilt web, migrate"
    assert (root / "compose" / "test").is_dir()
    assert ups(fakes) == [["pg"], ["web"]]


def test_a_change_inside_a_sync_rule_is_copied_into_the_running_service_not_rebuilt(
    running: tuple[Path, FakeBin],
) -> None:
    root, fakes = running
    image = devstate.read("test")["web"].image
    add_sync_rule(root)  # read afresh by the cycle: the loop's configuration is the disk's
    (root / "app/src/lib.py").write_text("X = 2\n")
    outcome = devloop.cycle("test", root, ["app/src/lib.py"])
    assert outcome.ok, outcome.line()
    assert (outcome.ran, outcome.services, outcome.refs) == ("synced web", ("web",), {})
    assert builds(fakes) == []
    assert any(argv[:1] == ["cp"] for argv in fakes.argvs("docker"))
    up = [argv for argv in fakes.argvs("docker-compose") if "up" in argv]
    assert ups(fakes) == [["web"]] and up[0][up[0].index("--timeout") + 1] == str(devloop.STOP_GRACE)
    assert devstate.read("test")["web"].image == image
    marks = [line for line in devloop.log_file().read_text().splitlines() if "sync marks" in line]
    assert len(marks) == 1
    steps = [word.split("=")[0] for word in marks[0].split(": ", 1)[1].split()]
    assert steps[:3] == ["cycle", "locked", "planned"] and steps[-1] == "healthy"


def test_try_sync_says_rebuild_when_a_file_is_outside_the_rules(running: tuple[Path, FakeBin]) -> None:
    root, fakes = running
    add_sync_rule(root)
    cfg = configs.load(root, env=yaml.safe_load((root / "environments/test.yaml").read_text()))
    assert devloop.try_sync(cfg, root, ["app/src/lib.py", "app/main.py"]) is None
    assert fakes.calls() == []


def test_render_writes_the_overlay_for_a_kubernetes_environment_only(project: Path) -> None:
    devloop.render(configs.load(project, env=configs.LOCAL), project)
    assert (project / "compose" / "test").is_dir() and not (project / "k8s").exists()
    devloop.render(configs.load(project, env=configs.KUBE), project)
    assert (project / "k8s").is_dir()


# --- the loop ---------------------------------------------------------------------------------


def test_a_loop_stopped_before_any_change_says_its_start_and_its_stop(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stop = threading.Event()
    stop.set()
    devloop.run("test", project, stop=stop)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("[dev] watching app, environments for test")
    assert lines[-1].startswith("[dev] stopped;") and len(lines) == 2


def test_the_loop_refuses_a_cloud_environment_before_watching(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configs.write(project, "test.yaml", configs.cloud_env())
    with pytest.raises(StackError, match="runs only local environments"):
        devloop.run("test", project, stop=threading.Event())
    assert "[dev] watching" not in capsys.readouterr().err


def scripted_batches(monkeypatch: pytest.MonkeyPatch, *batches: list[str], interrupt: bool = False) -> None:
    """The watcher replaced by a fixed list of batches (then Ctrl-C, if `interrupt`)."""

    def fake(_paths: list[Path], _root: Path, _stop: threading.Event) -> Iterator[list[str]]:
        yield from batches
        if interrupt:
            raise KeyboardInterrupt

    monkeypatch.setattr(devwatch, "batches", fake)


def test_a_failed_cycle_is_retried_when_the_same_bytes_come_again(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "app/main.py").write_text("print(1)\n")
    scripted_batches(monkeypatch, ["app/main.py"], ["app/main.py"])
    devloop.run("test", project)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[dev] app/main.py:")]
    assert len(lines) == 2 and all("FAILED" in line for line in lines)


def test_a_good_cycle_is_not_repeated_for_the_same_bytes_and_ctrl_c_ends_the_loop(
    running: tuple[Path, FakeBin], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root, fakes = running
    capsys.readouterr()
    scripted_batches(monkeypatch, ["app/main.py"], ["app/main.py"], interrupt=True)
    devloop.run("test", root)
    err = capsys.readouterr().err.splitlines()
    lines = [line for line in err if line.startswith("[dev] app/main.py:")]
    assert len(lines) == 1 and lines[0].endswith(": healthy")
    assert len(builds(fakes)) == 2  # web and migrate, once
    assert err[-1].startswith("[dev] stopped; the stack keeps running")


def test_a_cycles_steps_go_to_the_log_under_one_heading_and_not_to_the_terminal(
    running: tuple[Path, FakeBin], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _fakes = running
    capsys.readouterr()
    headings = devloop.log_file().read_text().count("\n--- cycle at ")
    (root / "app/main.py").write_text("print(3)\n")
    assert devloop.cycle("test", root, ["app/main.py"]).ok
    assert capsys.readouterr() == ("", "")
    log = devloop.log_file().read_text()
    assert log.count("\n--- cycle at ") == headings + 1 and "[web] docker build" in log
