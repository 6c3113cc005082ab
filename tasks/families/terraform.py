"""doit tasks for terraform/: fmt, validate, plan and apply, all through the Terraform
operations (tasks/ops/terraform.py).

Terraform keeps its working data (.terraform: providers, backend settings) under
.build/ via TF_DATA_DIR, never in the source tree. A plan is saved with a hash of
every input it was made from; `tf_apply` refuses a plan whose inputs changed since.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from tasks.checks import tfcheck
from tasks.errors import StackError
from tasks.families.shared.creators import each_cloud_env, user_errors
from tasks.families.shared.options import Option
from tasks.families.shared.registry import Scope, Task, creator
from tasks.families.shared.run import Run
from tasks.model import Config
from tasks.ops import terraform as ops
from tasks.ops.terraform import ValidateReport
from tasks.output import console
from tasks.render import plan
from tasks.store import state
from tasks.store.paths import TERRAFORM, code_files, is_tool, tf_files

PLUGIN_DIR_VAR = "STACKBUILD_TF_PLUGIN_DIR"
SKIPPED_SCHEMA = (
    f"provider schema validation (providers not installable here; set {PLUGIN_DIR_VAR} to a provider mirror)"
)
VALIDATE_STATE = state.tf_validate_dir()
MODE_FILE = state.tf_validate_mode()


# --------------------------------------------------------------------------- fmt


@user_errors
def _fmt(fix: bool = False) -> None:
    ops.fmt(fix=fix)


FIX = Option("fix", bool, False, "rewrite the files instead of checking them")


@creator(Task("tf_fmt", Scope.NONE, options=(FIX,)), needs=("render",))
def task_tf_fmt(run: Run) -> dict[str, Any]:
    """terraform fmt -check -recursive terraform (`--fix` rewrites the files instead)."""
    fix = bool(run.option(FIX))
    return {
        "actions": [_fmt],
        "params": run.params("tf_fmt"),
        "file_dep": plan.after_render(run.root, tf_files(TERRAFORM)),
        # A fix run changes files; it always runs and never marks the check as passed.
        "uptodate": [not fix],
        "verbosity": 2,
    }


# --------------------------------------------------------------------------- validate


def _schema_validate(plugin_dir: str) -> ValidateReport | str:
    """Validate a copy of terraform/ under .build/ (lock files and .terraform never land in
    the sources); a string says why nothing could run."""
    if not Path(plugin_dir).is_dir():
        return f"{PLUGIN_DIR_VAR}={plugin_dir} is not a directory"
    copy = VALIDATE_STATE / "tree"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(TERRAFORM, copy, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl"))
    return ops.schema_validate(copy, Path(plugin_dir), VALIDATE_STATE / "data")


STRUCTURAL = VALIDATE_STATE / "structural.json"


def _structural() -> None:
    """The structural checks, judging again only the directories whose files changed since
    they passed (recorded per directory in STRUCTURAL)."""
    try:
        passed = json.loads(STRUCTURAL.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        passed = {}
    result = tfcheck.checked(TERRAFORM, passed if isinstance(passed, dict) else {})
    state.write_atomic(STRUCTURAL, json.dumps(result.passed, indent=1, sort_keys=True) + "\n")
    if result.problems:
        raise StackError(
            "terraform/ has structural problems:\n" + "\n".join(f"  - {p}" for p in result.problems),
            fix="fix the Terraform sources (rendered tfvars/backend.hcl: templates/terraform/)",
        )
    unchanged = f"; {result.reused} unchanged since they passed" if result.reused else ""
    console.step(
        f"structural checks (python-hcl2) of {result.checked} directories: OK "
        f"(standard files, typed+described variables, module inputs, version pins, tfvars{unchanged})"
    )


def schema_key() -> str:
    """What decides whether provider schemas can be checked here: the mirror
    STACKBUILD_TF_PLUGIN_DIR names, and what it holds. A skip is retried when this changes."""
    plugin_dir = os.environ.get(PLUGIN_DIR_VAR, "")
    folder = Path(plugin_dir)
    if not plugin_dir or not folder.is_dir():
        return plugin_dir
    # <host>/<namespace>/<type>/<version or package>: a provider (or version) added is a change.
    return json.dumps([plugin_dir, sorted(p.relative_to(folder).as_posix() for p in folder.glob("*/*/*/*"))])


def _record(outcome: str, reason: str = "") -> None:
    """How the schema part ended: "full", or "skipped" with the key it was skipped for and why."""
    lines = ["full"] if outcome == "full" else ["skipped", schema_key(), reason]
    state.write_atomic(MODE_FILE, "\n".join(lines) + "\n")


@user_errors
def _validate() -> None:
    if not TERRAFORM.is_dir():
        console.step(ops.NO_TERRAFORM)
        _record("full")  # nothing left unchecked
        return
    MODE_FILE.unlink(missing_ok=True)  # until this run says how it ended
    _structural()
    plugin_dir = os.environ.get(PLUGIN_DIR_VAR, "")
    outcome = _schema_validate(plugin_dir) if plugin_dir else f"{PLUGIN_DIR_VAR} is not set"
    if isinstance(outcome, str):
        console.skipped(SKIPPED_SCHEMA)
        console.step(f"  (why: {outcome})")
        _record("skipped", f"{SKIPPED_SCHEMA} (why: {outcome})")
        return
    for name in outcome.validated:
        console.step(f"terraform validate {name}: OK")
    for name, why in outcome.skipped.items():
        console.step(f"SKIPPED terraform validate {name}: {why}")
    if outcome.failed:
        raise StackError(
            "terraform validate failed:\n" + "\n".join(f"{n}:\n{e}" for n, e in outcome.failed.items()),
            fix="fix the Terraform sources under terraform/ (rendered roots: templates/terraform/)",
        )
    if outcome.skipped:
        console.step(
            f"SKIPPED: terraform validate: {len(outcome.validated)} validated, {len(outcome.skipped)} NOT "
            f"validated (add the named providers to {PLUGIN_DIR_VAR}); tried again when the mirror changes"
        )
        _record("skipped", f"terraform validate of {', '.join(outcome.skipped)} (providers missing)")
        return
    _record("full")


def _mode() -> list[str]:
    try:
        return MODE_FILE.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []


def _validated_fully() -> bool:
    """Done for these inputs: every part ran, or the schema part was skipped for the mirror
    (or its absence) that is still the one here. A skip is reported on every run (the
    task's meta, tasks/cli/reporter.py), and retried once providers appear."""
    mode = _mode()
    return mode[:1] == ["full"] or (len(mode) >= 2 and mode[0] == "skipped" and mode[1] == schema_key())


def skipped_part() -> str | None:
    """Why the last run skipped the schema part, when it did (for an up-to-date report)."""
    mode = _mode()
    return mode[2] if len(mode) >= 3 and mode[0] == "skipped" else None


@creator(Task("tf_validate", Scope.ALL), needs=("render",))
def task_tf_validate(run: Run) -> dict[str, Any]:
    """Validate terraform/: structural checks always, `terraform validate` with a provider mirror."""
    skipped = skipped_part()
    return {
        "actions": [_validate],
        "file_dep": [*plan.after_render(run.root, tf_files(TERRAFORM)), *code_files(tfcheck)],
        "uptodate": [_validated_fully],
        "task_dep": ["render"],
        "verbosity": 2,
        **({"meta": {"skipped": skipped}} if skipped else {}),
    }


# --------------------------------------------------------------------------- plan / apply


@user_errors
def _plan(env: str) -> None:
    ops.plan(env)


@creator(Task("tf_plan", Scope.NAMED), needs=("render",))
def task_tf_plan(run: Run) -> Iterator[dict[str, Any]]:
    """terraform plan for each cloud environment, saved to .build/<env>/terraform/plan.tfplan."""
    # Outside the tool's checkout the modules the root calls are copies render makes.
    modules = [] if is_tool(run.root) else ["render:terraform-modules"]
    return each_cloud_env(run, partial(_plan_task, modules=modules))


def _plan_task(cfg: Config, *, modules: list[str]) -> dict[str, Any]:
    env = str(cfg.env)
    return {
        "doc": f"terraform init + plan -out for terraform/environments/{env}.",
        "actions": [(_plan, [env])],
        "file_dep": ops.plan_inputs(env),
        "targets": [str(ops.plan_file(env)), str(ops.inputs_file(env))],
        "task_dep": [f"render:terraform-{env}", *modules],
        "clean": True,
        "verbosity": 2,
    }


@user_errors
def _apply(env: str) -> None:
    ops.apply(env)


@creator(Task("tf_apply", Scope.NAMED, mutating=True))
def task_tf_apply(run: Run) -> Iterator[dict[str, Any]]:
    """terraform apply of exactly the saved plan of each cloud environment (refuses a stale plan)."""
    return each_cloud_env(run, _apply_task)


def _apply_task(cfg: Config) -> dict[str, Any]:
    return {
        "doc": f"Apply .build/{cfg.env}/terraform/plan.tfplan (made by `doit tf_plan:{cfg.env}`).",
        # No task_dep on tf_plan: applying must never silently make (and apply) a new plan.
        "actions": [(_apply, [cfg.env])],
        "uptodate": [False],
        "verbosity": 2,
    }
