"""tasks/programs/hadolint.py with the real hadolint (shipped by the `tools` extra)."""

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
