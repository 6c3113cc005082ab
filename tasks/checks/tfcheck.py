"""Structural checks of terraform/ that need no provider: python-hcl2 parsing only.

Used by `doit tf_validate` when providers cannot be installed, and by
tests/contract/test_terraform_files.py. Every check returns a list of problems (empty: fine), so
the task can report all of them at once and the tests can assert on each.

Parsing is the cost (python-hcl2 takes tens of milliseconds a file), so a file is parsed at
most once per content in a process (`load_file`), and `checked` judges again only the
directories whose inputs changed since they last passed (the caller keeps that record).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STANDARD_FILES = ["README.md", "main.tf", "outputs.tf", "variables.tf", "versions.tf"]
ENV_FILES = ["backend.hcl", "main.tf", "outputs.tf", "terraform.tfvars", "variables.tf", "versions.tf"]

# Local name of a provider -> the source address it must be pinned to.
PROVIDER_SOURCES = {
    "aws": "hashicorp/aws",
    "mongodbatlas": "mongodb/mongodbatlas",
    "rediscloud": "RedisLabs/rediscloud",
    "tls": "hashicorp/tls",
}

# Meta-arguments of a `module` block that are not inputs of the called module.
MODULE_META_ARGS = {"source", "version", "providers", "depends_on", "count", "for_each"}

SECRET_NAME = re.compile(r"password|secret|private_key|public_key|api_key|token", re.IGNORECASE)


def _hcl2() -> Any:
    # Imported late: python-hcl2 is in the `tools` extra, and importing this module
    # (dodo does, via the tasks) must not need it.
    import hcl2

    return hcl2


def _unquote(value: Any) -> Any:
    """python-hcl2 8 keeps the quotes of string literals and block labels; drop them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return json.loads(value)
    return value


def norm(node: Any) -> Any:
    if isinstance(node, dict):
        return {_unquote(k): norm(v) for k, v in node.items() if not str(k).startswith("__")}
    if isinstance(node, list):
        return [norm(v) for v in node]
    return _unquote(node)


# sha256 of a file's bytes -> what it parses to. Keyed by content, never by name or time, so a
# changed file can never be answered from here; callers only read what they get.
_PARSED: dict[str, dict[str, Any]] = {}


def load_file(path: Path) -> dict[str, Any]:
    """The file, parsed (once per content: every check of a run reads the same files)."""
    data = path.read_bytes()
    key = hashlib.sha256(data).hexdigest()
    if key not in _PARSED:
        _PARSED[key] = loads(data.decode("utf-8"))
    return _PARSED[key]


def loads(text: str) -> dict[str, Any]:
    parsed: dict[str, Any] = norm(_hcl2().loads(text))
    return parsed


def blocks(path_or_dir: Path, kind: str) -> dict[str, dict[str, Any]]:
    """All labelled blocks of one kind (variable, module, output) in a file or directory."""
    files = sorted(path_or_dir.glob("*.tf")) if path_or_dir.is_dir() else [path_or_dir]
    found: dict[str, dict[str, Any]] = {}
    for tf in files:
        for entry in load_file(tf).get(kind, []):
            for name, body in entry.items():
                if name in found:
                    raise ValueError(f"{kind} {name!r} is declared twice in {path_or_dir}")
                found[name] = body
    return found


def terraform_block(directory: Path) -> dict[str, Any]:
    found = load_file(directory / "versions.tf").get("terraform", [])
    if len(found) != 1:
        raise ValueError(f"{directory}/versions.tf must hold exactly one terraform block")
    block: dict[str, Any] = found[0]
    return block


def required_providers(directory: Path) -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for entry in terraform_block(directory).get("required_providers", []):
        merged.update(entry)
    return merged


def used_providers(directory: Path) -> set[str]:
    """Provider local names implied by resource and data source types in a directory."""
    used: set[str] = set()
    for tf in directory.glob("*.tf"):
        doc = load_file(tf)
        for kind in ("resource", "data"):
            for entry in doc.get(kind, []):
                used.update(rtype.split("_", 1)[0] for rtype in entry)
        for entry in doc.get("provider", []):
            used.update(entry)
    used.discard("terraform")  # terraform_data is built in
    return used


def module_dirs(terraform: Path) -> list[Path]:
    return sorted(p for p in (terraform / "modules").iterdir() if p.is_dir())


def environment_dirs(terraform: Path) -> list[Path]:
    return sorted(p for p in (terraform / "environments").iterdir() if p.is_dir())


# --------------------------------------------------------------------------- checks


def missing_files(directory: Path, expected: list[str]) -> list[str]:
    return [f"{directory}: lacks {name}" for name in expected if not (directory / name).is_file()]


def variable_problems(directory: Path) -> list[str]:
    """Typed, described; validations test only their own variable; secrets sensitive."""
    variables = blocks(directory / "variables.tf", "variable")
    if not variables:
        return [f"{directory}: declares no variables"]
    out: list[str] = []
    for name, body in variables.items():
        if not body.get("type"):
            out.append(f"{directory}: variable {name} has no type")
        if not str(body.get("description", "")).strip():
            out.append(f"{directory}: variable {name} has no description")
        if SECRET_NAME.search(name):
            if body.get("sensitive") is not True:
                out.append(f"{directory}: variable {name} must be sensitive = true")
            if "default" in body:
                out.append(f"{directory}: secret variable {name} must not have a default")
        for validation in body.get("validation", []):
            # Terraform < 1.9 rejects a validation that names another variable; cross-variable
            # rules belong in a lifecycle precondition.
            condition = str(validation.get("condition", ""))
            others = set(re.findall(r"var\.([A-Za-z0-9_-]+)", condition)) - {name}
            if f"var.{name}" not in condition:
                out.append(f"{directory}: validation of {name} does not test var.{name}")
            if others:
                out.append(f"{directory}: validation of {name} references {sorted(others)}")
            message = str(validation.get("error_message", ""))
            if not message.endswith("."):
                out.append(f"{directory}: error_message of {name} is not a sentence: {message!r}")
            if "`" not in message:
                out.append(f"{directory}: error_message of {name} names no variable")
    return out


def module_inputs(source_dir: Path) -> tuple[set[str], set[str]]:
    """(declared, required) input names of a module."""
    variables = blocks(source_dir / "variables.tf", "variable")
    return set(variables), {n for n, v in variables.items() if "default" not in v}


def module_call_problems(env_dir: Path) -> list[str]:
    """Every module call uses a local source, passes every required input and no unknown one."""
    out: list[str] = []
    for call_name, call in blocks(env_dir / "main.tf", "module").items():
        source = str(call.get("source", ""))
        if not source.startswith("../../modules/"):
            out.append(f"{env_dir}: module {call_name} must use a local ../../modules/ source")
            continue
        source_dir = (env_dir / source).resolve()
        if not (source_dir / "variables.tf").is_file():
            out.append(f"{env_dir}: module {call_name} calls {source}, which does not exist")
            continue
        declared, required = module_inputs(source_dir)
        passed = set(call) - MODULE_META_ARGS
        if required - passed:
            out.append(f"{env_dir}: module {call_name} misses required inputs {sorted(required - passed)}")
        if passed - declared:
            out.append(f"{env_dir}: module {call_name} passes unknown inputs {sorted(passed - declared)}")
    return out


def version_problems(directory: Path, *, root_module: bool) -> list[str]:
    """required_version pinned; every used provider pinned to its source with a minimum version."""
    out: list[str] = []
    block = terraform_block(directory)
    if not re.match(r">=\s*1\.\d+", str(block.get("required_version", ""))):
        out.append(f"{directory}: required_version is not pinned (>= 1.x)")
    providers = required_providers(directory)
    used = used_providers(directory)
    if root_module:
        # A root module pins what its child modules need, too.
        for call in blocks(directory / "main.tf", "module").values():
            used |= set(required_providers((directory / call["source"]).resolve()))
    if not used:
        out.append(f"{directory}: uses no provider")
    missing = used - set(providers)
    if missing:
        out.append(f"{directory}: providers used but not in required_providers: {sorted(missing)}")
    for name, spec in providers.items():
        if spec.get("source") != PROVIDER_SOURCES.get(name):
            out.append(f"{directory}: provider {name} has source {spec.get('source')!r}")
        if not re.search(r">=\s*\d+\.\d+", str(spec.get("version", ""))):
            out.append(f"{directory}: provider {name} has no minimum version")
    return out


def tfvars_problems(env_dir: Path) -> list[str]:
    """The rendered tfvars set only declared variables; other required ones are documented TF_VAR_s."""
    variables = blocks(env_dir / "variables.tf", "variable")
    tfvars = load_file(env_dir / "terraform.tfvars")
    out = [
        f"{env_dir}: terraform.tfvars sets undeclared variable {n}"
        for n in sorted(set(tfvars) - set(variables))
    ]
    for name, body in variables.items():
        if "default" in body or name in tfvars:
            continue
        if f"TF_VAR_{name}" not in str(body.get("description", "")):
            out.append(
                f"{env_dir}: required variable {name} is neither rendered nor documented as TF_VAR_{name}"
            )
    return out


def module_problems(directory: Path) -> list[str]:
    return missing_files(directory, STANDARD_FILES) or [
        *variable_problems(directory),
        *version_problems(directory, root_module=False),
    ]


def environment_problems(directory: Path) -> list[str]:
    return missing_files(directory, ENV_FILES) or [
        *variable_problems(directory),
        *module_call_problems(directory),
        *version_problems(directory, root_module=True),
        *tfvars_problems(directory),
    ]


def all_problems(terraform: Path) -> tuple[list[str], int]:
    """Every structural problem under terraform/, and how many directories were checked."""
    result = checked(terraform, {})
    return result.problems, result.checked


@dataclass
class Checked:
    """What `checked` found: the problems, how many directories it judged and how many it
    took from the record, and the new record (only directories that passed are in it)."""

    problems: list[str] = field(default_factory=list)
    checked: int = 0
    reused: int = 0
    passed: dict[str, str] = field(default_factory=dict)


def checked(terraform: Path, passed: dict[str, str]) -> Checked:
    """Every structural problem under terraform/, judging again only the directories whose
    inputs changed since they passed: `passed` maps a directory to the `inputs_digest` it
    passed with (an earlier `Checked.passed`)."""
    result = Checked()
    modules = module_dirs(terraform)
    shared = _digest(modules)  # what every environment reads besides its own files
    plan = [(d, module_problems, _digest([d])) for d in modules]
    plan += [(d, environment_problems, _digest([d]) + shared) for d in environment_dirs(terraform)]
    for directory, check, inputs in plan:
        key = directory.as_posix()
        digest = hashlib.sha256((inputs + _CODE).encode()).hexdigest()
        result.checked += 1
        if passed.get(key) == digest:
            result.reused += 1
            result.passed[key] = digest
            continue
        problems = guarded(directory, check)
        result.problems += problems
        if not problems:
            result.passed[key] = digest
    return result


# This module's own source: a changed check judges every directory again.
_CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def _digest(directories: list[Path]) -> str:
    """The names and bytes of every file directly in the directories: what their checks read."""
    digest = hashlib.sha256()
    try:
        for directory in directories:
            for path in sorted(directory.iterdir()):
                if path.is_file():
                    digest.update(path.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    except OSError:  # unreadable: never matches a record, so the check runs and says why
        digest.update(os.urandom(16))
    return digest.hexdigest()


def guarded(directory: Path, check: Any) -> list[str]:
    """The problems `check` finds in `directory`; a file that does not parse (any exception) is
    one problem naming the directory, not a crash of the whole check."""
    try:
        return list(check(directory))
    except Exception as exc:  # noqa: BLE001 - python-hcl2 raises lark errors of several types
        first = str(exc).splitlines()[0] if str(exc) else ""
        return [f"{directory}: cannot be checked: {type(exc).__name__}: {first}"]
