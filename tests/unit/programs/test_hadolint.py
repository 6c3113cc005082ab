"""tasks/programs/hadolint.py with the pinned hadolint: a finding fails with its report, and
the report carries no colour codes (hadolint colours even on a pipe)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import ToolError
from tasks.programs import hadolint


def test_a_finding_is_reported_without_colour_codes(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian\nRUN apt-get install curl\n")
    with pytest.raises(ToolError) as info:
        hadolint.lint([str(dockerfile)])
    report = info.value.stdout + info.value.stderr
    assert "DL3006" in report and "warning: Always tag the version of an image explicitly" in report
    assert "\x1b[" not in report and "\x1b[" not in info.value.render()


def test_a_clean_dockerfile_says_nothing(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text('FROM debian:12.5\nUSER 1000\nCMD ["true"]\n')
    assert hadolint.lint([str(dockerfile)]) == ""
