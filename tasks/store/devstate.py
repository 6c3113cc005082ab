"""What the inner loop knows per workload, on disk, for whoever shows it.

`doit dev` (the inner loop) writes one record per service after each cycle; `compose_ps`,
`minikube_status` and the status page (`doit ui`) read it, so "synced", the last cycle's
result and the time of the last change have one source. The live verdict (desired/ready,
healthy or not and why) is never stored here: it is asked of the runtime each time
(tasks/ops/targets/), so a record can never claim a health it does not have.

The file is `.build/<env>/dev/state.json`, written atomically (one writer at a time: the
loop holds the run lock while it writes). A missing or damaged file reads as "no records".
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from tasks.store import state


@dataclass(frozen=True)
class Record:
    """The inner loop's last word on one service (or job)."""

    name: str
    result: str = ""  # "", "ok" or "failed": the last cycle that touched this service
    seconds: float = 0.0  # how long that cycle took
    changed_at: float = 0.0  # time.time() of the last file change that touched this service
    synced_at: float = 0.0  # time.time() of the last live sync into its containers; 0: never
    image: str = ""  # the content tag the last real build gave (a sync never changes it)
    summary: str = ""  # the failure summary of the last failed cycle (empty when ok)
    files: tuple[str, ...] = field(default_factory=tuple)  # the first few changed files

    @property
    def synced(self) -> bool:
        """Running code differs from the image: a sync happened after the last build."""
        return self.synced_at > 0.0


def path(env: str) -> Path:
    return state.BUILD / env / "dev" / "state.json"


def read(env: str) -> dict[str, Record]:
    """Every service's record (empty when the loop never ran or the file is damaged)."""
    try:
        raw = json.loads(path(env).read_text(encoding="utf-8"))
        return {name: Record(**{**item, "files": tuple(item.get("files", ()))}) for name, item in raw.items()}
    except (OSError, ValueError, TypeError, AttributeError):  # missing, a folder, not a mapping...
        return {}


def write(env: str, records: dict[str, Record]) -> None:
    data = {name: asdict(records[name]) for name in sorted(records)}
    state.write_atomic(path(env), json.dumps(data, indent=2, sort_keys=True) + "\n")


def update(env: str, name: str, **changes: object) -> Record:
    """Change some fields of one service's record (made when missing) and save."""
    records = read(env)
    record = replace(records.get(name, Record(name)), **changes)  # type: ignore[arg-type]
    records[name] = record
    write(env, records)
    return record


def forget_syncs(env: str, deployed: dict[str, str]) -> list[str]:
    """A deploy ran these services from these images (service -> image reference): a sync into
    containers of another image is gone with them. Clears `synced_at` of those records (and
    records the deployed image); returns their names. A deploy that kept a synced container
    (its image unchanged) keeps its record: the synced code still runs there."""
    records = read(env)
    gone = [n for n, r in records.items() if r.synced and n in deployed and deployed[n] != r.image]
    for name in gone:
        records[name] = replace(records[name], synced_at=0.0, image=deployed[name])
    if gone:
        write(env, records)
    return gone
