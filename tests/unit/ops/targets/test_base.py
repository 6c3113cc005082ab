"""tasks/ops/targets/base.py: how every target words a job's last result and when it ran."""

from __future__ import annotations

from tasks.ops.targets.base import job_note, when


def test_times_from_a_record_and_from_a_kubernetes_status_read_alike() -> None:
    assert when(0.0) == "1970-01-01 00:00:00 UTC"
    assert when("2026-12-07T01:02:03Z") == "2026-12-07 01:02:03 UTC"
    assert when("not a time") == "not a time"


def test_a_job_note_is_its_result_and_when() -> None:
    assert job_note(True, 0.0) == "succeeded at 1970-01-01 00:00:00 UTC"
    assert job_note(False, "2026-12-07T01:02:03Z", "BackoffLimitExceeded") == (
        "BackoffLimitExceeded at 2026-12-07 01:02:03 UTC"
    )
    assert job_note(True, "") == "succeeded" and job_note(False, "") == "failed"
