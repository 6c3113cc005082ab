"""GitHub workflows: they parse, call only doit tasks that exist, and never hold a secret."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.cli import argv as doit_argv
from tasks.cli.resolve import resolve
from tasks.config import load as config
from tasks.errors import StackError
from testing.project import REPO, run_doit

WORKFLOWS = REPO / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))

# Tasks the deploy workflow calls that other work provides; remove a name once its task lands
# (the xfail below is strict, so a landed task fails the suite until it is removed here).

# Actions a workflow may use, each pinned by full commit SHA (the version in a comment).
# A tag can be moved to other code; a commit cannot.
ALLOWED_ACTIONS = {
    "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683": "v4.2.2",
    "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065": "v5.6.0",
    "aws-actions/configure-aws-credentials@e3dd6a429d7300a6a4c196c26e071d42e0343502": "v4.0.2",
    "docker/setup-qemu-action@29109295f81e9208d7d86ff1c6c12d2833863392": "v3.6.0",
}
USES_LINE = re.compile(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$", re.MULTILINE)

AWS_KEY_ID = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")
SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL", re.IGNORECASE)
SECRET_REF = re.compile(r"^\$\{\{\s*secrets\.[A-Z0-9_]+\s*\}\}$")


def _load(path: Path) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _steps(doc: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in doc["jobs"].values() for step in job.get("steps", [])]


def _env_choices(doc: dict[Any, Any]) -> list[str]:
    # PyYAML reads the key `on` as True (YAML 1.1 boolean).
    trigger = doc.get("on", doc.get(True)) or {}
    inputs = (trigger.get("workflow_dispatch") or {}).get("inputs", {}) if isinstance(trigger, dict) else {}
    spec = inputs.get("environment", {})
    if spec.get("type") == "environment":
        # Any GitHub environment may be picked; the ones doit deploys are the cloud environments.
        return _cloud_envs()
    return list(spec.get("options", [])) or ["dev"]


def _cloud_envs() -> list[str]:
    return [env for env in config.environments(REPO) if config.load(env, REPO).cloud is not None]


def doit_calls(run: str, envs: list[str]) -> list[list[str]]:
    """Each doit command line of a `run:` script, for every environment the input allows."""
    calls: list[list[str]] = []
    for env in envs:
        text = run.replace('"$STACK_ENV"', env).replace("$STACK_ENV", env)
        for line in text.splitlines():
            words = shlex.split(line, comments=True)
            while "doit" in words:
                words = words[words.index("doit") + 1 :]
                argv = []
                for word in words:
                    if word in ("&&", "||", ";", "|", "doit"):
                        break
                    argv.append(word)
                calls.append(argv)
    return calls


def doit_tasks(run: str, envs: list[str]) -> set[str]:
    """Task names a `run:` script passes to doit, read by the product's own parser."""
    grammar = doit_argv.grammar(REPO)
    return {word for argv in doit_calls(run, envs) for word in doit_argv.split(argv, grammar).tasks}


def _called() -> set[str]:
    names: set[str] = set()
    for path in FILES:
        doc = _load(path)
        for step in _steps(doc):
            if "run" in step:
                names |= doit_tasks(step["run"], _env_choices(doc))
    return names


@pytest.fixture
def task_names(project: Path) -> set[str]:
    """Every task and subtask name, as `doit list --all --quiet` prints them."""
    result = run_doit(project, "--all", "--quiet", command="list")
    assert result.code == 0, result.out
    return {line.split()[0] for line in result.out.splitlines() if line.strip()}


def test_there_are_ci_and_deploy_workflows() -> None:
    assert {p.name for p in FILES} >= {"ci.yml", "deploy.yml"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_workflow_parses_and_uses_only_allowed_actions(path: Path) -> None:
    doc = _load(path)
    assert doc["jobs"], path
    for step in _steps(doc):
        assert "uses" in step or "run" in step, step
        if "uses" in step:
            assert step["uses"] in ALLOWED_ACTIONS, f"{path.name}: unexpected action {step['uses']}"


def test_doit_task_parser() -> None:
    run = 'PATH="$PATH:x" doit validate tf_fmt env=dev --verbosity 2\ndoit push:"$STACK_ENV" env="$STACK_ENV"'
    assert doit_tasks(run, ["dev", "prod"]) == {"validate", "tf_fmt", "push:dev", "push:prod"}


def test_every_workflow_command_line_resolves(monkeypatch: pytest.MonkeyPatch) -> None:
    """What CI types is accepted by the run resolver: known tasks and options, and a
    mutating cloud command that names exactly one environment."""
    monkeypatch.setenv("CI", "true")
    for path in FILES:
        doc = _load(path)
        for step in _steps(doc):
            for argv in doit_calls(step.get("run", ""), _env_choices(doc)):
                try:
                    resolve(argv, REPO)
                except StackError as exc:
                    raise AssertionError(f"{path.name}: `doit {' '.join(argv)}`: {exc.render()}") from None


def test_every_called_task_exists(task_names: set[str]) -> None:
    called = set(_called())
    assert called, "no doit task found in the workflows"
    assert not called - task_names, f"workflows call unknown doit tasks: {sorted(called - task_names)}"


def test_deploy_steps_only_call_doit() -> None:
    doc = _load(WORKFLOWS / "deploy.yml")
    runs = [step["run"].strip() for step in _steps(doc) if "run" in step]
    install = [r for r in runs if r.startswith("pip install")]
    assert install == ["pip install -e '.[tools]'"]
    for run in set(runs) - set(install):
        assert run.startswith("doit ") and "\n" not in run and not re.search(r"[;&|`]|\$\(", run), run
    # The environment is any GitHub environment (its protection rules and deploy role apply),
    # not a list of names written here: a new cloud environment (`qa`) needs no workflow edit.
    spec = (doc.get("on") or doc[True])["workflow_dispatch"]["inputs"]["environment"]
    assert spec["type"] == "environment" and "options" not in spec
    assert _env_choices(doc) == ["dev", "prod", "staging"]


def test_by_default_the_deploy_workflow_applies_the_committed_record_and_builds_nothing() -> None:
    doc = _load(WORKFLOWS / "deploy.yml")
    build = (doc.get("on") or doc[True])["workflow_dispatch"]["inputs"]["build"]
    assert build == {"description": build["description"], "type": "boolean", "default": False}
    steps = {step.get("name"): step for step in _steps(doc)}
    # Only the input turns building and pushing on: a promoted environment's record (staging,
    # prod) is deployed as reviewed, never replaced by a build of this run.
    for name in ("Emulation for other platforms (QEMU)", "Build images", "Push images"):
        assert steps[name]["if"] == "${{ inputs.build }}", name
    for name in ("Log in to the registry", "Point kubectl at the cluster", "Deploy", "Smoke test"):
        assert "if" not in steps[name], name  # every deploy checks the record's digests in the registry


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_secrets_are_referenced_never_inlined(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not AWS_KEY_ID.search(text), f"{path.name} holds what looks like an AWS access key ID"
    doc = _load(path)
    envs = [doc.get("env", {})] + [job.get("env", {}) for job in doc["jobs"].values()]
    envs += [step.get("env", {}) for step in _steps(doc)]
    for env in envs:
        for name, value in env.items():
            if SECRET_NAME.search(name):
                assert SECRET_REF.match(str(value)), (
                    f"{path.name}: {name} must be a ${{{{ secrets.X }}}} reference"
                )
    for step in _steps(doc):
        # Expressions spliced into a script are an injection risk; pass them via env.
        assert "${{" not in step.get("run", ""), f"{path.name}: expression inside run: {step['run']!r}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_sha_with_the_version_named(path: Path) -> None:
    lines = USES_LINE.findall(path.read_text(encoding="utf-8"))
    assert lines, path
    for action, rest in lines:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), (
            f"{path.name}: {action} is not pinned by SHA"
        )
        assert rest.strip() == f"# {ALLOWED_ACTIONS[action]}", (
            f"{path.name}: {action} lacks its version comment"
        )


def test_deploy_authenticates_through_oidc_without_stored_keys() -> None:
    text = (WORKFLOWS / "deploy.yml").read_text(encoding="utf-8")
    doc = _load(WORKFLOWS / "deploy.yml")
    job = doc["jobs"]["deploy"]
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    auth = [s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
    assert len(auth) == 1 and auth[0]["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(auth[0]["with"])
    for path in FILES:
        assert "AWS_ACCESS_KEY_ID" not in path.read_text() and "AWS_SECRET_ACCESS_KEY" not in path.read_text()
    # Credentials arrive after the image build and before the first step that needs them.
    names = [s.get("name", s.get("uses", "")) for s in job["steps"]]
    assert (
        names.index("Build images")
        < names.index("AWS credentials (OIDC)")
        < names.index("Log in to the registry")
    )
    assert "id-token" not in str(doc.get("permissions")), "only the deploy job may ask for an OIDC token"
    # Foreign platforms (images.platforms) build under emulation, registered before the build.
    assert names.index("Emulation for other platforms (QEMU)") < names.index("Build images")
    assert text.count("role-to-assume") == 1
