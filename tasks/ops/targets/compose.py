"""The Compose deploy target: tasks/ops/targets/base.py's protocol for `runtime: compose`.

Compose has no revision history, so nothing is rolled back: `up --wait` starts what
changed and waits for every container's healthcheck together (one deadline:
timeouts.healthy), and a failure names each broken service with its health check's last
output and its last log lines (tasks/ops/compose_failures.py `explain`). Status reads
`docker-compose ps` once, the health log of the unhealthy containers, and each job's
record of its last run (tasks/ops/compose_jobs.py).
"""

from __future__ import annotations

from tasks.model import Config
from tasks.ops import compose
from tasks.ops import compose_volumes as volumes
from tasks.ops.compose_jobs import JobRun, last_run
from tasks.ops.compose_stack import Stack, image_env
from tasks.ops.targets import rollout
from tasks.ops.targets.base import Failure, Row, job_note, when
from tasks.programs import compose as compose_cli
from tasks.programs import docker
from tasks.programs.compose import Container
from tasks.store import devstate, images


class ComposeTarget:
    """`step` limits apply to one Compose step ("databases" or "services"; None: both), so
    each doit up task converges its own part; `live` is the run's shared `docker ps` cache."""

    def __init__(self, cfg: Config, live: compose.Live | None = None, step: str | None = None) -> None:
        self.stack = Stack(cfg)
        self.live = live or compose.Live(self.stack.project)
        self.step = step

    @property
    def env(self) -> str:
        return self.stack.env

    @property
    def label(self) -> str:
        return f"Compose project {self.stack.project}"

    def fix(self) -> str:
        return f"fix the cause shown above, then run `doit compose_up env={self.env}`"

    def apply(self) -> None:
        for what, names in (("databases", self.stack.dbs()), ("services", self.stack.services())):
            if self.step in (None, what):
                compose.up(self.stack, self.live, names, what)
        if self.step in (None, "services"):
            # Containers of a new image no longer hold what live sync copied into the old ones.
            devstate.forget_syncs(self.env, images.refs(self.env, self.stack.services()))

    def wait(self) -> list[Failure]:
        return []  # `up --wait` already waited, and raised with the failing services' logs

    def roll_back(self, failures: list[Failure]) -> dict[str, str]:
        return {f.workload: "not rolled back (Compose keeps no previous revision)" for f in failures}

    def record(self) -> None:
        """Compose records nothing itself: doit records the up task once it succeeded."""

    def jobs(self) -> list[str]:
        return self.stack.jobs()

    def status(self) -> list[Row]:
        found = compose_cli.ps(self.stack.compose_project(), env=image_env(self.stack, [], required=False))
        by_service: dict[str, list[Container]] = {}
        for c in found:
            by_service.setdefault(c.service, []).append(c)
        refs = images.refs(self.env, self.stack.all_built())
        # Why a container is unhealthy is in Docker's health log, not in `ps`: one call for all.
        checks = docker.health([c.name for c in found if c.health in ("unhealthy", "starting") and c.name])
        rows = [
            row(name, by_service.get(name, []), refs.get(name), checks)
            for name in [*self.stack.dbs(), *self.stack.services()]
        ]
        if self.stack.jobs():
            rows += job_rows(self.stack, volumes.identity(self.stack))
        return rows


def row(name: str, found: list[Container], want: str | None, checks: dict[str, docker.HealthCheck]) -> Row:
    """One service's status row from its containers, the image recorded for it and the health
    log of its unhealthy containers."""
    live = " ".join(sorted({c.image for c in found})) or (want or "-")
    ready = sum(1 for c in found if c.ready)
    applied = bool(found) and (want is None or all(c.image == want for c in found))
    if not found:
        verdict, note = "stale", "not started"
    elif ready < len(found):
        bad = next(c for c in found if not c.ready)
        verdict, note = "failed", bad.health or bad.state
        if bad.name in checks and checks[bad.name].exit_code not in (None, 0):
            note += f"; last health check: {checks[bad.name].cause()}"
    elif not applied:
        verdict, note = "stale", f"recorded image is {want}"
    else:
        verdict, note = "ok", ""
    return Row(
        f"service/{name}",
        str(max(1, len(found))),
        str(ready),
        live,
        "yes" if applied else "no",
        verdict,
        note,
    )


def converge_step(stack: Stack, live: compose.Live, what: str) -> None:
    """The deploy engine on one step ("databases" or "services") of the Compose target."""
    rollout.converge(ComposeTarget(stack.cfg, live, what))


def show_status(stack: Stack) -> None:
    """The status table of the Compose target; fails unless every service is ok. Always the
    Compose target: under runtime kubernetes it shows the host databases."""
    rollout.status(ComposeTarget(stack.cfg))


def job_rows(stack: Stack, now_volumes: str | None) -> list[Row]:
    """One status row per job: its last result, when it ran, and whether that run still
    counts (the same image, the same data volumes)."""
    refs = images.refs(stack.env, stack.jobs())
    return [job_row(name, last_run(stack, name), refs.get(name), now_volumes) for name in stack.jobs()]


def job_row(name: str, run: JobRun | None, want: str | None, now_volumes: str | None) -> Row:
    if run is None:
        return Row(f"job/{name}", "1", "0", want or "-", "no", "stale", "never ran here")
    image = run.image or want or "-"
    if not run.ok:
        verdict, note = "failed", job_note(False, run.at, f"exit {run.exit_code}")
    elif want is not None and run.image != want:
        verdict, note = "stale", f"ran {when(run.at)} with another image; recorded image is {want}"
    elif not volumes.unchanged(run.volumes, now_volumes):
        verdict, note = "stale", f"ran {when(run.at)}; the data volumes were recreated since"
    else:
        verdict, note = "ok", job_note(True, run.at)
    done = verdict == "ok"
    return Row(f"job/{name}", "1", "1" if run.ok else "0", image, "yes" if done else "no", verdict, note)
