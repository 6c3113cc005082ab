"""tasks/ops/targets/rollout.py on its own: the status table, an empty status, the failure summary
(converge and finish on a real target: test_kubernetes.py and test_compose.py)."""

from __future__ import annotations

from typing import cast

from tasks.ops.targets import rollout
from tasks.ops.targets.base import DeployTarget, Failure, Row


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
