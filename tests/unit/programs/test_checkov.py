"""tasks/programs/checkov.py: one checkov scan (its arguments, environment, verdict, summary and
report) against a recording fake `checkov` first on PATH (testing/cloudcli.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tasks.programs import checkov, tools
from testing.cloudcli import cloud_fakes, logged

__all__ = ["cloud_fakes"]  # the fixture


def scan_of(code: int, out: str, err: str) -> checkov.Scan:
    return checkov.Scan("terraform", tools.Result(code, out, err), 0.5)


def test_a_scan_reads_its_verdict_summary_and_report() -> None:
    out = "x\nPassed checks: 1, Failed checks: 0, Skipped checks: 0  \nnot: Passed checks: 9\n"
    scan = scan_of(0, out, "ignored")
    assert scan.passed is True and scan.summary == ["Passed checks: 1, Failed checks: 0, Skipped checks: 0"]
    assert scan.report == out.strip()
    failed = scan_of(1, "  ", " crashed \n")
    assert failed.passed is False and failed.summary == [] and failed.report == "crashed"


def test_a_scan_runs_quietly_offline_without_colours_and_times_itself(cloud_fakes: Path) -> None:
    before = time.monotonic()
    scan = checkov.scan("terraform", ["-d", "terraform", "--framework", "terraform"])
    took = time.monotonic() - before
    assert scan.framework == "terraform" and scan.passed
    assert scan.summary == ["Passed checks: 4, Failed checks: 0, Skipped checks: 0"]
    assert 0 < scan.seconds <= took
    (call,) = logged(cloud_fakes)
    assert call["argv"] == [
        "checkov", "-d", "terraform", "--framework", "terraform", "--skip-download", "--quiet", "--compact"
    ]  # fmt: skip
    assert call["env"] == {"NO_COLOR": "1", "ANSI_COLORS_DISABLED": "1"}


def test_a_scan_with_findings_fails_and_keeps_the_report(
    cloud_fakes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_CHECKOV_FAIL", "kubernetes")
    scan = checkov.scan("kubernetes", ["--framework", "kubernetes"])  # exit 1 is a verdict, not an error
    assert scan.passed is False
    assert scan.report == "Passed checks: 4, Failed checks: 1, Skipped checks: 0\nCheck: CKV_X_1: kubernetes"


def test_installed_looks_on_path(cloud_fakes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert checkov.installed() is True
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # checkov is never in the project's virtualenv
    assert checkov.installed() is False
