"""doit tasks for terraform/: fmt, validate, plan and apply, all through tools.terraform.

Terraform keeps its working data (.terraform: providers, backend settings) under
.build/ via TF_DATA_DIR, never in the source tree. A plan is saved with a hash of
every input it was made from; `tf_apply` refuses a plan whose inputs changed since.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tasks import tfcheck, tools
from tasks.creators import failing
from tasks.errors import StackError, user_errors
from tasks.paths import BUILD
from tasks.run import Run

TERRAFORM = Path("terraform")
PLUGIN_DIR_VAR = "STACKBUILD_TF_PLUGIN_DIR"
SKIPPED_SCHEMA = ("SKIPPED: provider schema validation (providers not installable here; "
                  f"set {PLUGIN_DIR_VAR} to a provider mirror)")
VALIDATE_STATE = BUILD / "terraform" / "validate"
MODE_FILE = BUILD / "terraform" / "validate.mode"


def tf_files(*folders: Path) -> list[str]:
    """Terraform sources below the folders (.tf, .tfvars, .hcl), never Terraform's own working data."""
    out: list[str] = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix in (".tf", ".tfvars", ".hcl") and ".terraform" not in path.parts:
                out.append(path.as_posix())
    return sorted(out)


def cloud_envs(run: Run) -> Iterator[str | dict[str, Any]]:
    """Each cloud environment's name; a broken one as a failing subtask (never vanishes)."""
    for env, got in run.cloud_envs():
        yield failing(got, name=env) if isinstance(got, StackError) else env


# --------------------------------------------------------------------------- fmt


@user_errors
def _fmt(fix: bool = False) -> None:
    if fix:
        written = tools.terraform("fmt", "-recursive", "-list=true", str(TERRAFORM), cwd=".").stdout.split()
        print("\n".join(f"  formatted {p}" for p in written) or "  terraform fmt: nothing to change")
        return
    result = tools.terraform("fmt", "-check", "-recursive", "-list=true", "-no-color", str(TERRAFORM),
                             cwd=".", check=False)
    if result.code != 0:
        files = result.stdout.split()
        raise StackError(
            "`terraform fmt -check -recursive terraform` failed"
            + (":\n" + "\n".join(f"  - {p}" for p in files) if files else f":\n{result.stderr.strip()}"),
            fix="run `doit tf_fmt fix=1` (rendered files: fix templates/terraform/ and `doit render`)",
        )
    print("  terraform fmt -check -recursive terraform: OK")


def task_tf_fmt(run: Run) -> dict[str, Any]:
    """terraform fmt -check -recursive terraform (`--fix` rewrites the files instead)."""
    fix = bool(run.option("tf_fmt", "fix"))
    return {
        "actions": [_fmt],
        "params": run.params("tf_fmt"),
        "file_dep": tf_files(TERRAFORM),
        # A fix run changes files; it always runs and never marks the check as passed.
        "uptodate": [not fix],
        "verbosity": 2,
    }


# --------------------------------------------------------------------------- validate


def _schema_validate(plugin_dir: str) -> str | None:
    """init -backend=false -plugin-dir + validate in every module and environment.

    Runs on a copy of terraform/ under .build/ so init's lock files and .terraform
    never land in the source tree. Returns why it could not run (None: it ran).
    A configuration that Terraform rejects is an error, not a skip.
    """
    if not Path(plugin_dir).is_dir():
        return f"{PLUGIN_DIR_VAR}={plugin_dir} is not a directory"
    copy = VALIDATE_STATE / "tree"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(TERRAFORM, copy, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl"))
    dirs = tfcheck.module_dirs(copy) + tfcheck.environment_dirs(copy)
    problems: list[str] = []
    for directory in dirs:
        name = directory.relative_to(copy).as_posix()
        data = {"TF_DATA_DIR": str((VALIDATE_STATE / "data" / name).resolve())}
        init = tools.terraform("init", "-backend=false", "-input=false", "-no-color",
                               f"-plugin-dir={Path(plugin_dir).resolve()}", cwd=directory, env=data, check=False)
        if init.code != 0:
            tail = (init.stderr or init.stdout).strip().splitlines()[-3:]
            return f"`terraform init -plugin-dir` failed in terraform/{name}: " + " / ".join(tail)
        result = tools.terraform("validate", "-no-color", cwd=directory, env=data, check=False)
        if result.code != 0:
            problems.append(f"terraform/{name}:\n" + (result.stderr or result.stdout).strip())
        else:
            print(f"  terraform validate terraform/{name}: OK")
    if problems:
        raise StackError("terraform validate failed:\n" + "\n".join(problems),
                         fix="fix the Terraform sources under terraform/")
    return None


@user_errors
def _validate() -> None:
    problems, count = tfcheck.all_problems(TERRAFORM)
    if problems:
        raise StackError("terraform/ has structural problems:\n" + "\n".join(f"  - {p}" for p in problems),
                         fix="fix the Terraform sources (rendered tfvars/backend.hcl: templates/terraform/)")
    print(f"  structural checks (python-hcl2) of {count} directories: OK "
          "(standard files, typed+described variables, module inputs, version pins, tfvars)")
    plugin_dir = os.environ.get(PLUGIN_DIR_VAR, "")
    why = _schema_validate(plugin_dir) if plugin_dir else f"{PLUGIN_DIR_VAR} is not set"
    MODE_FILE.parent.mkdir(parents=True, exist_ok=True)
    if why is not None:
        print(f"  {SKIPPED_SCHEMA}\n  (why: {why})")
        MODE_FILE.write_text("structural\n")
    else:
        MODE_FILE.write_text("full\n")


def _validated_fully() -> bool:
    # A run that skipped schema validation is never recorded as up to date: the
    # next run tries again (and says SKIPPED again) instead of passing silently.
    return MODE_FILE.exists() and MODE_FILE.read_text().strip() == "full"


def task_tf_validate(run: Run) -> dict[str, Any]:
    """Validate terraform/: structural checks always, `terraform validate` with a provider mirror."""
    return {
        "actions": [_validate],
        "file_dep": [*tf_files(TERRAFORM), "tasks/tfcheck.py"],
        "uptodate": [_validated_fully],
        "task_dep": ["render"],
        "verbosity": 2,
    }


# --------------------------------------------------------------------------- plan / apply


def env_dir(env: str) -> Path:
    return TERRAFORM / "environments" / env


def plan_dir(env: str) -> Path:
    return BUILD / env / "terraform"


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
    tools.terraform("init", "-input=false", "-no-color", "-reconfigure", "-backend-config=backend.hcl",
                    cwd=env_dir(env), env=_tf_env(env))


@user_errors
def _plan(env: str) -> None:
    plan, recorded = plan_file(env), inputs_file(env)
    plan.parent.mkdir(parents=True, exist_ok=True)
    recorded.unlink(missing_ok=True)  # a half-made plan must never look current
    plan.unlink(missing_ok=True)
    digest = inputs_hash(env)
    _init(env)
    result = tools.terraform("plan", "-input=false", "-no-color", f"-out={plan.resolve()}",
                             cwd=env_dir(env), env=_tf_env(env))
    print(result.stdout)
    recorded.write_text(digest + "\n")
    print(f"  saved {plan}; apply exactly this plan with `doit tf_apply:{env}`")


def task_tf_plan(run: Run) -> Iterator[dict[str, Any]]:
    """terraform plan for each cloud environment, saved to .build/<env>/terraform/plan.tfplan."""
    for env in cloud_envs(run):
        if isinstance(env, dict):
            yield env
            continue
        yield {
            "name": env,
            "doc": f"terraform init + plan -out for terraform/environments/{env}.",
            "actions": [(_plan, [env])],
            "file_dep": plan_inputs(env),
            "targets": [str(plan_file(env)), str(inputs_file(env))],
            "task_dep": [f"render:terraform-{env}"],
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
            fix=f"terraform/environments/{env}, its rendered inputs or a module changed since the plan was made",
        )
    _init(env)
    result = tools.terraform("apply", "-input=false", "-no-color", str(plan.resolve()),
                             cwd=env_dir(env), env=_tf_env(env))
    print(result.stdout)
    # A saved plan applies once; removing it makes the next apply ask for a new plan.
    plan.unlink()
    recorded.unlink()


def task_tf_apply(run: Run) -> Iterator[dict[str, Any]]:
    """terraform apply of exactly the saved plan of each cloud environment (refuses a stale plan)."""
    for env in cloud_envs(run):
        if isinstance(env, dict):
            yield env
            continue
        yield {
            "name": env,
            "doc": f"Apply .build/{env}/terraform/plan.tfplan (made by `doit tf_plan:{env}`).",
            # No task_dep on tf_plan: applying must never silently make (and apply) a new plan.
            "actions": [(_apply, [env])],
            "uptodate": [False],
            "verbosity": 2,
        }
