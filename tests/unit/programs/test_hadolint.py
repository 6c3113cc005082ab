"""tasks/programs/hadolint.py with the pinned hadolint: a finding fails with its report, and
the report carries no colour codes (hadolint colours even on a pipe)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import ToolError
from tasks.programs import hadolint


def test_a_clean_dockerfile_has_an_empty_report(tmp_path: Path) -> None:
    good = tmp_path / "Dockerfile"
    good.write_text("FROM debian:bookworm-slim\nUSER 10001\n")
    assert hadolint.lint([str(good)]) == ""


def test_a_finding_fails_with_the_report_naming_the_file_and_rule(tmp_path: Path) -> None:
    good, bad = tmp_path / "Dockerfile", tmp_path / "Dockerfile.bad"
    good.write_text("FROM debian:bookworm-slim\nUSER 10001\n")
    bad.write_text("FROM debian:latest\nRUN cd /tmp\n")
    with pytest.raises(ToolError) as info:
        hadolint.lint([str(good), str(bad)])  # every file is linted in one call
    assert f"{bad}:1 DL3007" in str(info.value)
    assert f"{good}:" not in str(info.value)


def test_a_finding_is_reported_without_colour_codes(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian\nRUN apt-get install curl\n")
    with pytest.raises(ToolError) as info:
        hadolint.lint([str(dockerfile)])
    report = info.value.stdout + info.value.stderr
    assert "DL3006" in report and "warning: Always tag the version of an image explicitly" in report
    assert "\x1b[" not in report and "\x1b[" not in info.value.render()
