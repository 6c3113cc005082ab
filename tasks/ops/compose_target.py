"""The Compose deploy target: tasks/ops/targets.py's protocol for `runtime: compose`.

Compose has no revision history, so nothing is rolled back: `up --wait` starts what
changed and waits for every container's healthcheck together (one deadline:
timeouts.healthy), and a failure names each broken service with its last log lines
(tasks/compose.explain). Status reads `docker-compose ps` once.
"""

from __future__ import annotations

from tasks.model import Config
from tasks.ops import compose
from tasks.ops.compose import Stack
from tasks.ops.targets import Failure, Row
from tasks.store import images


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

    def wait(self) -> list[Failure]:
        return []  # `up --wait` already waited, and raised with the failing services' logs

    def roll_back(self, failures: list[Failure]) -> dict[str, str]:
        return {f.workload: "not rolled back (Compose keeps no previous revision)" for f in failures}

    def record(self) -> None:
        """Compose records nothing itself: doit records the up task once it succeeded."""

    def jobs(self) -> list[str]:
        return self.stack.jobs()

    def status(self) -> list[Row]:
        result = compose.compose(self.stack, "ps", "-a", "--format", "json")
        rows = compose.parse_compose_ps(result.stdout)
        by_service: dict[str, list[dict[str, object]]] = {}
        for row in rows:
            by_service.setdefault(str(row.get("Service", "")), []).append(row)
        refs = images.refs(self.env, self.stack.all_built())
        out = []
        for name in [*self.stack.dbs(), *self.stack.services()]:
            found = by_service.get(name, [])
            want = refs.get(name)
            live = " ".join(sorted({str(r.get("Image", "")) for r in found})) or (want or "-")
            ready = sum(
                1 for r in found if r.get("State") == "running" and r.get("Health", "") in ("", "healthy")
            )
            applied = bool(found) and (want is None or all(r.get("Image") == want for r in found))
            if not found:
                verdict, note = "stale", "not started"
            elif ready < len(found):
                bad = next(
                    r
                    for r in found
                    if not (r.get("State") == "running" and r.get("Health", "") in ("", "healthy"))
                )
                verdict, note = "failed", str(bad.get("Health") or bad.get("State"))
            elif not applied:
                verdict, note = "stale", f"recorded image is {want}"
            else:
                verdict, note = "ok", ""
            out.append(
                Row(
                    f"service/{name}",
                    str(max(1, len(found))),
                    str(ready),
                    live,
                    "yes" if applied else "no",
                    verdict,
                    note,
                )
            )
        return out
