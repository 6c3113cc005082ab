"""checkov over the repository: documented suppressions, one scan per framework, one verdict.

checkov lives in its own virtualenv at the end of PATH (tasks/programs/checkov.py); without
it a local run says SKIPPED loudly and is never recorded as up to date, while CI fails.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tasks.errors import StackError
from tasks.ops import checkov_scans
from tasks.output import console
from tasks.programs import checkov
from tasks.store import passed, state

INSTALL = checkov.INSTALL
SKIPPED = f"checkov is not installed (install it in its own venv: {INSTALL})"
SKIP_LINE = re.compile(r"^\s*-\s*(CKV\w*_\d+)\s*(?:#\s*(.*))?$")


def documented_skips(text: str) -> dict[str, str]:
    """check id -> reason, from the `skip-check:` list of .checkov.yaml.

    checkov rejects unknown keys in its config file, so a reason lives in a comment
    on the entry's own line. An entry without one is an error: every suppression
    must say why it is safe.
    """
    skips: dict[str, str] = {}
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(r"^skip-check\s*:", line):
            inside = True
            continue
        if inside and re.match(r"^\S", line):
            inside = False
        match = SKIP_LINE.match(line) if inside else None
        if inside and line.strip().startswith("-") and match is None:
            raise StackError(
                f".checkov.yaml line {number}: cannot read skip entry {line.strip()!r}",
                fix="write `  - CKV_ID  # why skipping it is safe`",
            )
        if match:
            reason = (match.group(2) or "").strip()
            if len(reason.split()) < 3:
                raise StackError(
                    f".checkov.yaml line {number}: {match.group(1)} is skipped without a reason",
                    fix=f"add `# <why this is safe>` after {match.group(1)}, or fix the finding",
                )
            skips[match.group(1)] = reason
    return skips


def run(scans: list[tuple[str, list[str]]], *, config: Path, mode: Path, record: Path | None = None) -> None:
    """Run every scan (framework, checkov arguments) on what no earlier passing scan saw
    (ops/checkov_scans.py, remembered in `record`); `mode` records whether checkov ran."""
    if not checkov.installed():
        if os.environ.get("CI", "").lower() == "true":
            raise StackError("checkov is not installed, and CI must run it", fix=INSTALL)
        console.skipped(SKIPPED, loud=True)
        state.write_atomic(mode, "skipped\n")
        return
    mode.unlink(missing_ok=True)
    skips = documented_skips(config.read_text(encoding="utf-8")) if config.exists() else {}
    for check, reason in sorted(skips.items()):
        console.step(f"skipping {check}: {reason}")
    # .checkov.yaml (read by checkov from the project root) holds the output options; what to
    # scan is given here. One run per framework, one after the other: on two cores, runs side
    # by side took longer (measured 16.9 s against 14.7 s).
    record = record or state.checkov_passed()
    todo = checkov_scans.pending(scans, config=config, known=passed.passed(record.parent))
    for framework in [f for f, _ in scans if f not in {p.framework for p in todo}]:
        console.step(f"checkov {framework}: unchanged since it passed")
    failures = []
    for item in todo:
        scan = checkov.scan(item.framework, item.args)
        console.step(
            f"checkov {scan.framework}: {', '.join(scan.summary) or 'no summary'} ({scan.seconds:.1f} s)"
        )
        if not scan.passed:
            failures.append(f"[{scan.framework}]\n" + scan.report)
        elif not passed.remember(record, item.keys):
            console.note(f"{record} could not be written: the next run scans {scan.framework} again")
    if failures:
        raise StackError(
            "checkov found problems:\n" + "\n\n".join(failures),
            fix="fix the finding; if it is safe by design, suppress it next to the resource "
            "with a reason that is true (`#checkov:skip=ID:reason` in Terraform, "
            "Dockerfiles and workflows; a checkov.io/skipN annotation in templates/k8s/)",
        )
    state.write_atomic(mode, "ran\n")
