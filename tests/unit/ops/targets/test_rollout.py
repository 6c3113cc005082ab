"""tasks/ops/targets/rollout.py on its own: the status table, an empty status, the failure summary
(converge and finish on a real target: test_kubernetes.py and test_compose.py)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from tasks.errors import StackError
from tasks.ops.targets import rollout
from tasks.ops.targets.base import DeployTarget, Failure, Row, when
from tasks.store import devstate


def test_table_aligns_every_column_but_the_last() -> None:
    rows = [
        Row("deployment/a", "1", "1", "img:1", "yes", "ok"),
        Row("job/bb", "10", "0", "i:2", "no", "stale", "not deployed"),
    ]
    assert rollout.table(rows).splitlines() == [
        "  workload      desired  ready  image  applied  verdict",
        "  deployment/a  1        1      img:1  yes      ok",
        "  job/bb        10       0      i:2    no       stale (not deployed)",
    ]


class _Empty:
    label = "nowhere"
    env = "test"

    def status(self) -> list[Row]:
        return []

    def fix(self) -> str:
        return "nothing"


def test_status_without_workloads_is_ok() -> None:
    shown: list[str] = []
    rollout.status(cast(DeployTarget, _Empty()), out=shown.append)
    assert shown == ["  (no workloads)"]


def test_summary_names_each_failure_and_what_was_undone() -> None:
    failures = [
        Failure("deployment/a", "CrashLoopBackOff", ["    pod a-1:"]),
        Failure("job/b", "BackoffLimitExceeded", []),
    ]
    text = rollout.summary(cast(DeployTarget, _Empty()), failures, {"deployment/a": "rolled back"})
    assert text.splitlines() == [
        "2 workload(s) not healthy in nowhere; nothing was recorded as applied:",
        "  deployment/a: CrashLoopBackOff; rolled back",
        "    pod a-1:",
        "  job/b: BackoffLimitExceeded; not rolled back",
    ]


class _Rows(_Empty):
    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows

    def status(self) -> list[Row]:
        return self.rows


def test_a_synced_service_shows_as_synced_with_when_while_its_image_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rows = [
        Row("service/web", "2", "2", "acme/web:t1", "yes", "ok"),
        Row("deployment/api", "1", "1", "acme/api:t2", "yes", "ok"),
        Row("service/db", "1", "1", "db:1", "yes", "ok"),
        Row("service/bad", "1", "0", "acme/bad:t1", "yes", "failed", "unhealthy"),
        Row("job/web", "1", "1", "acme/web:t1", "yes", "ok"),
    ]
    devstate.update("test", "web", synced_at=1_800_000_000.0, image="acme/web:t1")
    devstate.update("test", "api", synced_at=1_800_000_000.0, image="acme/api:t1")  # since redeployed
    devstate.update("test", "db", image="db:1")  # built, never synced
    devstate.update("test", "bad", synced_at=1_800_000_000.0, image="acme/bad:t1")
    shown = rollout.synced(rows, devstate.read("test"))
    at = when(1_800_000_000.0)
    assert [(r.verdict, r.note) for r in shown] == [
        ("synced", f"synced at {at}"),
        ("ok", ""),
        ("ok", ""),
        ("failed", f"unhealthy; synced at {at}"),
        ("ok", ""),  # a job named like a service is not its containers
    ]
    # Synced is fine for `status` (exit 0); a failed one still fails it.
    lines: list[str] = []
    rollout.status(cast(DeployTarget, _Rows(rows[:3])), out=lines.append)
    assert f"synced (synced at {at})" in lines[0].splitlines()[1]
    with pytest.raises(StackError, match="1 of 4 workload"):
        rollout.status(cast(DeployTarget, _Rows(rows[:4])), out=lines.append)
