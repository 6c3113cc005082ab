"""The doctor's checks (tasks/ops/doctor.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tasks.ops import doctor


def test_a_missing_aws_cli_is_said_in_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", os.pathsep.join([str(tmp_path), str(Path(sys.executable).parent)]))
    check = doctor.aws()
    assert not check.ok
    assert check.found == "not installed"  # was cut to "not"
