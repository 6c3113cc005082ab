"""tasks/ops/compose_jobs.py against the fake `docker` and `docker-compose` (testing/fakes):
running a job, its failure report, and the record of its last run that `compose_ps` shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.ops import compose as cops
from tasks.ops import compose_volumes as volumes
from tasks.ops import docker_images
from tasks.ops.compose_jobs import last_run, run_job
from tasks.ops.targets.base import when
from tasks.ops.targets.compose import job_rows
from tasks.output import console
from testing.composebox import ENV, PROJECT, Box, box, record_ref, write_env

__all__ = ["box"]  # the fixture
FORMAT = '{{.Label "com.docker.compose.service"}}\t{{.State}}\t{{.Status}}\t{{.ID}}\t{{.Image}}'


JOB_FAILS = """\
i=1; while [ $i -le 30 ]; do echo "line $i"; i=$((i + 1)); done
echo "$JOB_ERROR" >&2
exit 4
"""


def test_a_failed_job_shows_its_last_lines_and_how_to_rerun(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env("RABBITMQ_PASSWORD=x\n")
    record_ref("bootstrap", "b:1")
    box.script_compose(JOB_FAILS)
    monkeypatch.setenv("JOB_ERROR", "no route to host")
    live = cops.Live(PROJECT)
    with pytest.raises(StackError) as info:
        run_job(box.stack, live, "bootstrap")
    lines = info.value.message.splitlines()
    assert lines[0] == f"bootstrap failed in environment {ENV} (exit 4); last lines:"
    assert lines[1:] == [f"line {i}" for i in range(12, 31)] + ["no route to host"]
    assert info.value.fix == f"fix the cause, then `doit compose_jobs env={ENV}` runs it again"
    # A refused login with no data volumes: not the secrets' fault, the plain report.
    monkeypatch.setenv("JOB_ERROR", "WRONGPASS invalid username-password pair")
    Path(box.stack.files[0]).write_text("name: x\nservices: {}\n")
    with pytest.raises(StackError, match="^bootstrap failed in environment"):
        run_job(box.stack, live, "bootstrap")


def test_a_job_that_succeeds_forgets_the_live_state(box: Box, capsys: pytest.CaptureFixture[str]) -> None:
    write_env("RABBITMQ_PASSWORD=x\n")
    record_ref("bootstrap", "b:1")
    live = cops.Live(PROJECT)
    live.states()
    run_job(box.stack, live, "bootstrap")
    assert "bootstrap done" in capsys.readouterr().out
    live.states()
    assert [argv for argv in box.fakes.argvs("docker") if argv[0] == "ps"] == [
        ["ps", "-a", "--filter", f"label=com.docker.compose.project={PROJECT}", "--format", FORMAT]
    ] * 2
    assert box.compose_argvs() == [["run", "--rm", "-T", "bootstrap"]]


def test_a_jobs_run_log_leaves_the_build_log_of_its_namesake_image(box: Box) -> None:
    # The demo's `bootstrap` is both an image and the job that runs it: one log each.
    write_env("RABBITMQ_PASSWORD=x\n")
    record_ref("bootstrap", "b:1")
    build_log = Path(".build/logs") / f"{docker_images.log_step('bootstrap')}.log"
    build_log.parent.mkdir(parents=True)
    build_log.write_text("Step 1/9 : FROM node\n")
    box.script_compose('echo "seeded 3 queues"\n')
    run_job(box.stack, cops.Live(PROJECT), "bootstrap")
    assert Path(".build/logs/job-bootstrap.log").read_text() == "seeded 3 queues\n"
    assert build_log.read_text() == "Step 1/9 : FROM node\n"
    assert sorted(p.name for p in build_log.parent.iterdir()) == ["build-bootstrap.log", "job-bootstrap.log"]


def test_a_job_that_prints_a_secret_keeps_it_masked_in_its_step_log_and_its_failure(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env("RABBITMQ_PASSWORD=s3cr3t-value\n")
    record_ref("bootstrap", "b:1")
    box.script_compose('echo "login as admin:s3cr3t-value"; exit 3\n')
    with pytest.raises(StackError) as info:
        run_job(box.stack, cops.Live(PROJECT), "bootstrap")
    assert Path(".build/logs/job-bootstrap.log").read_text() == "login as admin:********\n"
    console.error(info.value.render())  # as the run's one error handler prints it
    said = capsys.readouterr()
    assert "s3cr3t-value" not in said.out + said.err and "login as admin:********" in said.err


def test_a_job_refuses_a_readable_env_file_before_running(box: Box) -> None:
    write_env("RABBITMQ_PASSWORD=x\n", mode=0o644)
    record_ref("bootstrap", "b:1")
    with pytest.raises(StackError, match="readable by others"):
        run_job(box.stack, cops.Live(PROJECT), "bootstrap")
    assert box.compose_argvs() == []


def test_a_job_refused_by_a_database_blames_the_env_file(box: Box, monkeypatch: pytest.MonkeyPatch) -> None:
    write_env("RABBITMQ_PASSWORD=x\n")
    record_ref("bootstrap", "b:1")
    box.script_compose(JOB_FAILS)
    monkeypatch.setenv("JOB_ERROR", "(403) ACCESS_REFUSED - Login was refused")
    with pytest.raises(StackError) as info:
        run_job(box.stack, cops.Live(PROJECT), "bootstrap")
    lines = info.value.message.splitlines()
    assert lines[0].startswith(
        f"bootstrap cannot log in with the passwords in compose/{ENV}/.env, but the data"
    )
    assert lines[1] == "last lines of bootstrap:" and lines[-1] == "(403) ACCESS_REFUSED - Login was refused"
    assert info.value.fix is not None and "wipe=1" in info.value.fix


def test_each_run_is_recorded_with_its_result_image_time_and_volumes(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env("RABBITMQ_PASSWORD=x\n")
    record_ref("bootstrap", "b:1")
    assert last_run(box.stack, "bootstrap") is None
    run_job(box.stack, cops.Live(PROJECT), "bootstrap")
    ok = last_run(box.stack, "bootstrap")
    assert ok is not None and (ok.ok, ok.exit_code, ok.image) == (True, 0, "b:1")
    assert ok.volumes == volumes.identity(box.stack) and ok.volumes  # the volumes it wrote to
    [row] = job_rows(box.stack, volumes.identity(box.stack))
    assert (row.workload, row.verdict, row.note) == ("job/bootstrap", "ok", f"succeeded at {when(ok.at)}")
    monkeypatch.setenv("FAKE_COMPOSE_RUN_FAIL", "seed failed")
    with pytest.raises(StackError):
        run_job(box.stack, cops.Live(PROJECT), "bootstrap")
    bad = last_run(box.stack, "bootstrap")
    assert bad is not None and (bad.ok, bad.exit_code) == (False, 1) and bad.at >= ok.at
    [row] = job_rows(box.stack, volumes.identity(box.stack))
    assert (row.ready, row.applied, row.verdict, row.note) == (
        "0",
        "no",
        "failed",
        f"exit 1 at {when(bad.at)}",
    )


def test_an_unreadable_record_is_no_record(box: Box) -> None:
    path = Path(".build") / ENV / "compose-jobs" / "bootstrap.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert last_run(box.stack, "bootstrap") is None
    path.write_text('{"ok": true}')
    assert last_run(box.stack, "bootstrap") is None
