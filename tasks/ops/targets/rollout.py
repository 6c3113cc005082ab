"""One deploy engine for every target (Compose, Minikube, the cloud clusters).

A target implements a small protocol (tasks/ops/targets/base.py `DeployTarget`): apply what
changed, wait for the result, roll back what can be rolled back, say which jobs it runs,
and report status. The steps that decide what is true live here, once:

  converge  apply, then `finish`
  finish    wait for every workload together under one deadline; nothing is recorded
            as applied unless all are healthy; every failure is reported in one summary
            (workload, pod reason, last events, log tail) after rolling back what has a
            previous revision. A failure with nothing to roll back to stays stale, so
            the next run waits for it, and fails, again.
  status    one table: workload, desired, ready, image, applied, verdict (ok/synced/stale/
            failed); an error (non-zero exit) unless every verdict is ok or synced (live sync:
            files copied into the running containers after the image was built, `synced`).

Which target deploys an environment is tasks/ops/targets/registry.py's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from tasks.errors import StackError
from tasks.ops.targets.base import DeployTarget, Failure, Row, when
from tasks.output import console
from tasks.store import devstate

# Verdicts of a workload that is as it should be: its image, or that image with files synced in.
FINE = ("ok", "synced")


def converge(target: DeployTarget) -> None:
    target.apply()
    finish(target)


def finish(target: DeployTarget) -> None:
    failures = target.wait()
    if not failures:
        target.record()
        return
    undone = target.roll_back(failures)
    raise StackError(summary(target, failures, undone), fix=target.fix())


def summary(target: DeployTarget, failures: list[Failure], undone: dict[str, str]) -> str:
    lines = [f"{len(failures)} workload(s) not healthy in {target.label}; nothing was recorded as applied:"]
    for f in failures:
        lines.append(f"  {f.workload}: {f.reason}; {undone.get(f.workload, 'not rolled back')}")
        lines += f.detail
    return "\n".join(lines)


HEADER = ("workload", "desired", "ready", "image", "applied", "verdict")


def table(rows: list[Row]) -> str:
    cells = [
        HEADER,
        *(
            (
                r.workload,
                r.desired,
                r.ready,
                r.image,
                r.applied,
                r.verdict + (f" ({r.note})" if r.note else ""),
            )
            for r in rows
        ),
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER) - 1)]
    return "\n".join(
        "  " + "  ".join([*(c[i].ljust(widths[i]) for i in range(len(widths))), c[-1]]).rstrip()
        for c in cells
    )


def synced(rows: list[Row], records: dict[str, devstate.Record]) -> list[Row]:
    """A service whose containers got live-synced files (tasks/ops/sync.py) and still run the
    image they got them in is "synced", with when: never shown as plainly its image. A failing
    one stays "failed", with when it was synced in the note."""
    out = []
    for row in rows:
        kind, _, name = row.workload.partition("/")
        rec = records.get(name)
        if kind in ("service", "deployment") and rec and rec.synced and rec.image in row.image.split():
            at = f"synced at {when(rec.synced_at)}"
            if row.verdict == "ok":
                row = replace(row, verdict="synced", note=at)
            elif row.verdict == "failed":
                row = replace(row, note=f"{row.note}; {at}" if row.note else at)
        out.append(row)
    return out


def status(target: DeployTarget, out: Callable[[str], None] = console.show) -> None:
    rows = synced(target.status(), devstate.read(target.env))
    out(table(rows) if rows else "  (no workloads)")
    bad = [r for r in rows if r.verdict not in FINE]
    if bad:
        names = ", ".join(f"{r.workload} {r.verdict}" for r in bad)
        raise StackError(
            f"{len(bad)} of {len(rows)} workload(s) in {target.label} are not ok: {names}", fix=target.fix()
        )
