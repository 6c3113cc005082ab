"""The one-shot jobs of a Compose stack: running one (`run --rm -T`), and the record of each
job's last run (result, exit code, when, the image and the data volumes it ran with), which
`compose_ps` shows as one row per job.

A job leaves no container behind (`--rm`), so Docker cannot say how it last went: the
record in .build/<env>/compose-jobs/<job>.json is the only memory of it.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from tasks.errors import StackError, ToolError
from tasks.ops import compose_volumes as volumes
from tasks.ops.compose import Live, check_env_file
from tasks.ops.compose_failures import LOG_TAIL
from tasks.ops.compose_stack import Stack, image_env
from tasks.output import console
from tasks.programs import compose as compose_cli
from tasks.store import images, state


@dataclass(frozen=True)
class JobRun:
    """How a job's last run went."""

    ok: bool
    exit_code: int
    at: float  # seconds since the epoch, when it finished
    image: str  # the reference it ran ("" for an image not built here)
    volumes: str | None  # the data volumes' identity then (compose_volumes.identity)


def record(stack: Stack, job: str, run: JobRun) -> None:
    state.write_atomic(state.compose_jobs_dir(stack.env) / f"{job}.json", json.dumps(asdict(run)) + "\n")


def last_run(stack: Stack, job: str) -> JobRun | None:
    """The job's last recorded run; None when it never ran here (or the record is unreadable)."""
    try:
        doc = json.loads((state.compose_jobs_dir(stack.env) / f"{job}.json").read_text(encoding="utf-8"))
        return JobRun(
            bool(doc["ok"]),
            int(doc["exit_code"]),
            float(doc["at"]),
            str(doc["image"]),
            None if doc.get("volumes") is None else str(doc["volumes"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def run_job(stack: Stack, live: Live, job: str) -> None:
    live.forget()
    check_env_file(stack)
    env = image_env(stack, [job], required=True)
    volumes.ensure(stack)
    ran = JobRun(True, 0, 0.0, env.get(images.image_var(job), ""), volumes.identity(stack))
    # The job's compose profile is named after it; `run` activates it for this one service.
    timeout = stack.cfg.timeouts["healthy"]
    try:
        compose_cli.run_once(
            stack.compose_project(), job, env=env, prefix=f"job-{job}", timeout=timeout + 120
        )
    except ToolError as exc:
        record(stack, job, JobRun(False, exc.code, time.time(), ran.image, ran.volumes))
        raise failed(stack, job, exc) from None
    record(stack, job, JobRun(True, 0, time.time(), ran.image, ran.volumes))
    console.step(f"{job} done")


def failed(stack: Stack, job: str, exc: ToolError) -> StackError:
    tail = "\n".join((exc.stdout + exc.stderr).strip().splitlines()[-LOG_TAIL:])
    if compose_cli.refused_login(exc.stdout + exc.stderr) and volumes.data_volumes(stack):
        return StackError(
            volumes.mismatch(stack, f"{job} cannot log in with the passwords in {stack.env_file}")
            + f".\nlast lines of {job}:\n{tail}",
            fix=volumes.mismatch_fix(stack),
        )
    return StackError(
        f"{job} failed in environment {stack.env} (exit {exc.code}); last lines:\n{tail}",
        fix=exc.fix or f"fix the cause, then `doit compose_jobs env={stack.env}` runs it again",
    )
