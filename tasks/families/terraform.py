"""doit tasks for terraform/: fmt, validate, plan and apply, all through the Terraform adapter
(tasks/programs/terraform.py).

Terraform keeps its working data (.terraform: providers, backend settings) under
.build/ via TF_DATA_DIR, never in the source tree. A plan is saved with a hash of
every input it was made from; `tf_apply` refuses a plan whose inputs changed since.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
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
from tasks.output import console
from tasks.programs import terraform
from tasks.store import state
from tasks.store.paths import TERRAFORM, code_files, is_tool, tf_files

PLUGIN_DIR_VAR = "STACKBUILD_TF_PLUGIN_DIR"
SKIPPED_SCHEMA = (
    "SKIPPED: provider schema validation (providers not installable here; "
    f"set {PLUGIN_DIR_VAR} to a provider mirror)"
)
VALIDATE_STATE = state.tf_validate_dir()
MODE_FILE = state.tf_validate_mode()


# --------------------------------------------------------------------------- fmt


NO_TERRAFORM = "no terraform/ in this project (it has no cloud environment): nothing to check"


@user_errors
def _fmt(fix: bool = False) -> None:
    if not TERRAFORM.is_dir():
        console.step(NO_TERRAFORM)
        return
    if fix:
        written = terraform.fmt_fix(TERRAFORM)
        console.show("\n".join(f"  formatted {p}" for p in written) or "  terraform fmt: nothing to change")
        return
    result = terraform.fmt_check(TERRAFORM)
    if not result.ok:
        files = result.files
        raise StackError(
            "`terraform fmt -check -recursive terraform` failed"
            + (":\n" + "\n".join(f"  - {p}" for p in files) if files else f":\n{result.message}"),
            fix="run `doit tf_fmt fix=1` (rendered files: fix templates/terraform/ and `doit render`)",
        )
    console.step("terraform fmt -check -recursive terraform: OK")


FIX = Option("fix", bool, False, "rewrite the files instead of checking them")


@creator(Task("tf_fmt", Scope.NONE, options=(FIX,)))
def task_tf_fmt(run: Run) -> dict[str, Any]:
    """terraform fmt -check -recursive terraform (`--fix` rewrites the files instead)."""
    fix = bool(run.option(FIX))
    return {
        "actions": [_fmt],
        "params": run.params("tf_fmt"),
        "file_dep": tf_files(TERRAFORM),
        # A fix run changes files; it always runs and never marks the check as passed.
        "uptodate": [not fix],
        "verbosity": 2,
    }


# --------------------------------------------------------------------------- validate


@dataclass
class ValidateReport:
    """What `terraform validate` did per directory (terraform/<relative path>)."""

    validated: list[str] = field(default_factory=list)
    # directory -> why it could not be validated (the missing providers, or init's error)
    skipped: dict[str, str] = field(default_factory=dict)
    # directory -> Terraform's error
    failed: dict[str, str] = field(default_factory=dict)


def mirror_providers(plugin_dir: Path) -> set[str]:
    """`namespace/type` (lowercase) of every provider in a -plugin-dir mirror.

    Both mirror layouts put a provider at <hostname>/<namespace>/<type>/ (unpacked:
    .../<version>/<os_arch>/, packed: .../terraform-provider-<type>_<version>_<os_arch>.zip).
    """
    return {f"{p.parent.name}/{p.name}".lower() for p in plugin_dir.glob("*/*/*") if p.is_dir()}


def needed_providers(directory: Path) -> dict[str, str]:
    """local name -> source address of every provider a directory needs (with its modules')."""
    needed = {
        name: spec.get("source", f"hashicorp/{name}")
        for name, spec in tfcheck.required_providers(directory).items()
    }
    for call in tfcheck.blocks(directory, "module").values():
        source = directory / str(call.get("source", ""))
        if (source / "versions.tf").is_file():
            needed.update(needed_providers(source.resolve()))
    return needed


def schema_validate(tree: Path, plugin_dir: Path, state: Path) -> ValidateReport:
    """init -backend=false -plugin-dir + validate in every module and environment of `tree`.

    Each directory is judged on its own: one that needs a provider the mirror lacks is
    named with that provider and skipped, and the others are still validated. A
    configuration Terraform rejects is a failure, never a skip. `tree` is a copy (init
    writes lock files); `state` holds each directory's TF_DATA_DIR.
    """
    report = ValidateReport()
    available = mirror_providers(plugin_dir)
    for directory in tfcheck.module_dirs(tree) + tfcheck.environment_dirs(tree):
        name = f"terraform/{directory.relative_to(tree).as_posix()}"
        try:
            needed = needed_providers(directory)
        except (OSError, ValueError) as exc:
            report.failed[name] = f"cannot read its providers: {exc}"
            continue
        missing = sorted(src for src in needed.values() if src.lower() not in available)
        if missing:
            report.skipped[name] = "provider " + ", ".join(missing) + " not in the mirror"
            continue
        data = {"TF_DATA_DIR": str((state / directory.relative_to(tree)).resolve())}
        init = terraform.init_offline(directory, plugin_dir, data)
        if not init.ok:
            tail = init.message.splitlines()[-3:]
            report.skipped[name] = "`terraform init -plugin-dir` failed: " + " / ".join(
                t.strip() for t in tail
            )
            continue
        result = terraform.validate(directory, data)
        if not result.ok:
            report.failed[name] = result.message
        else:
            report.validated.append(name)
    return report


def _schema_validate(plugin_dir: str) -> ValidateReport | str:
    """Validate a copy of terraform/ under .build/ (lock files and .terraform never land in
    the sources); a string says why nothing could run."""
    if not Path(plugin_dir).is_dir():
        return f"{PLUGIN_DIR_VAR}={plugin_dir} is not a directory"
    copy = VALIDATE_STATE / "tree"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(TERRAFORM, copy, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl"))
    return schema_validate(copy, Path(plugin_dir), VALIDATE_STATE / "data")


@user_errors
def _validate() -> None:
    if not TERRAFORM.is_dir():
        console.step(NO_TERRAFORM)
        state.write_atomic(MODE_FILE, "full\n")  # nothing left unchecked
        return
    problems, count = tfcheck.all_problems(TERRAFORM)
    if problems:
        raise StackError(
            "terraform/ has structural problems:\n" + "\n".join(f"  - {p}" for p in problems),
            fix="fix the Terraform sources (rendered tfvars/backend.hcl: templates/terraform/)",
        )
    console.step(
        f"structural checks (python-hcl2) of {count} directories: OK "
        "(standard files, typed+described variables, module inputs, version pins, tfvars)"
    )
    plugin_dir = os.environ.get(PLUGIN_DIR_VAR, "")
    outcome = _schema_validate(plugin_dir) if plugin_dir else f"{PLUGIN_DIR_VAR} is not set"
    MODE_FILE.unlink(missing_ok=True)  # write_atomic makes its folder
    if isinstance(outcome, str):
        console.step(f"{SKIPPED_SCHEMA}\n  (why: {outcome})")
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
            f"terraform validate: {len(outcome.validated)} validated, {len(outcome.skipped)} NOT validated "
            f"(add the named providers to {PLUGIN_DIR_VAR}); this run is not recorded as up to date"
        )
        return
    # Only a run that validated every directory is recorded as up to date.
    state.write_atomic(MODE_FILE, "full\n")


def _validated_fully() -> bool:
    # A run that skipped schema validation is never recorded as up to date: the
    # next run tries again (and says SKIPPED again) instead of passing silently.
    return MODE_FILE.exists() and MODE_FILE.read_text().strip() == "full"


@creator(Task("tf_validate", Scope.ALL))
def task_tf_validate(run: Run) -> dict[str, Any]:
    """Validate terraform/: structural checks always, `terraform validate` with a provider mirror."""
    return {
        "actions": [_validate],
        "file_dep": [*tf_files(TERRAFORM), *code_files(tfcheck)],
        "uptodate": [_validated_fully],
        "task_dep": ["render"],
        "verbosity": 2,
    }


# --------------------------------------------------------------------------- plan / apply


def env_dir(env: str) -> Path:
    return TERRAFORM / "environments" / env


def plan_dir(env: str) -> Path:
    return state.terraform_dir(env)


def plan_file(env: str) -> Path:
    return plan_dir(env) / "plan.tfplan"


def inputs_file(env: str) -> Path:
    return plan_dir(env) / "plan.inputs"


def plan_inputs(env: str) -> list[str]:
    """What a plan is made from: the environment's sources and rendered inputs, every module."""
    return tf_files(env_dir(env), TERRAFORM / "modules")


def inputs_hash(env: str) -> str:
    digest = hashlib.sha256()
    for name in plan_inputs(env):
        digest.update(name.encode() + b"\0" + Path(name).read_bytes() + b"\0")
    return digest.hexdigest()


def _tf_env(env: str) -> dict[str, str]:
    # Absolute: terraform runs with -chdir, and TF_DATA_DIR is read relative to that.
    return {"TF_DATA_DIR": str((plan_dir(env) / "data").resolve()), "TF_IN_AUTOMATION": "1"}


def _init(env: str) -> None:
    terraform.init(env_dir(env), _tf_env(env), label=f"init {env}")


def summary(verb: str, env: str, counts: tuple[int, int, int] | None, plan: Path) -> str:
    where = f"plan file {plan}" if verb == "tf_plan" else f"applied plan file {plan} (used up)"
    if counts is None:
        return f"  {verb}:{env} summary: Terraform printed no resource counts; {where}"
    add, change, destroy = counts
    words = ("to add", "to change", "to destroy") if verb == "tf_plan" else ("added", "changed", "destroyed")
    return f"  {verb}:{env} summary: {add} {words[0]}, {change} {words[1]}, {destroy} {words[2]}; {where}"


@user_errors
def _plan(env: str) -> None:
    plan, recorded = plan_file(env), inputs_file(env)
    plan.parent.mkdir(parents=True, exist_ok=True)
    recorded.unlink(missing_ok=True)  # a half-made plan must never look current
    plan.unlink(missing_ok=True)
    digest = inputs_hash(env)
    _init(env)
    counts = terraform.plan(env_dir(env), plan, _tf_env(env), label=f"plan {env}")
    state.write_atomic(recorded, digest + "\n")
    console.show(summary("tf_plan", env, counts, plan))
    console.step(f"apply exactly this plan with `doit tf_apply:{env}`")


@creator(Task("tf_plan", Scope.NAMED))
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
        "file_dep": plan_inputs(env),
        "targets": [str(plan_file(env)), str(inputs_file(env))],
        "task_dep": [f"render:terraform-{env}", *modules],
        "clean": True,
        "verbosity": 2,
    }


@user_errors
def _apply(env: str) -> None:
    plan, recorded = plan_file(env), inputs_file(env)
    if not plan.exists() or not recorded.exists():
        raise StackError(f"there is no saved plan for {env}", fix=f"run `doit tf_plan:{env}` and review it")
    if recorded.read_text().strip() != inputs_hash(env):
        raise StackError(
            f"the plan for {env} is stale: run `doit tf_plan:{env}`",
            fix=f"terraform/environments/{env}, its rendered inputs or a module changed "
            "since the plan was made",
        )
    _init(env)
    try:
        counts = terraform.apply(env_dir(env), plan, _tf_env(env), label=f"apply {env}")
    finally:
        # A saved plan is used once, even by an apply that failed or was stopped half-way:
        # the state may have moved on, so the next apply asks for a new, reviewed plan.
        plan.unlink(missing_ok=True)
        recorded.unlink(missing_ok=True)
    console.show(summary("tf_apply", env, counts, plan))


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
