"""`doit info` and `doit list --status` on a project copy: what a task runs, its checks by name,
the real reason it would run; never a lambda, an address or a traceback."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest
from doit.action import PythonAction
from doit.loader import load_tasks

from tasks.cli.info_cmd import describe, describe_action
from testing import harness
from testing.fakes import docker as fake_docker
from testing.project import REPO, run_doit


def test_info_names_the_action_and_the_checks(project: Path) -> None:
    result = run_doit(project, "images:engine", command="info")
    assert " at 0x" not in result.out
    assert (
        "actions    :\n - build_image(Config(local), Image(engine), "
        "'demo/docker/Dockerfile.service', 'demo', "
        "'srvthreds/engine', Build, 'engine', _no_env)\n"
    ) in result.out
    assert (
        " * The following uptodate checks say it must run:\n    - image_in_daemon(Image(engine), _no_env)"
        in result.out
    )


def test_a_source_edit_is_the_service_images_own_reason_to_rebuild(project: Path) -> None:
    # The engine image copies from the builder; a source edit rebuilds the builder, then it.
    # The build context is one stamp: its task names the file, the image names the context.
    result = run_doit(project, "images:context:demo", command="info")
    changed = result.out.split("The following file dependencies have changed:")[1].split(" * ")[0]
    assert "demo/srvthreds_demo/engine.py" in changed
    result = run_doit(project, "images:engine", command="info")
    checks = result.out.split("The following uptodate checks say it must run:")[1]
    assert "context_current('demo', " in checks, result.out


def test_no_task_runs_or_checks_a_lambda(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    named = []
    for env in ("local", "offline", "minikube", "dev"):
        # dodo.py resolves the run from argv, as under the real `doit list env=<env>`.
        monkeypatch.setattr("sys.argv", ["doit", "list", f"env={env}"])
        spec = importlib.util.spec_from_file_location("dodo_under_test", project / "dodo.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for task in load_tasks(vars(module)):
            for action in [*task.actions, *task.teardown, *task.clean_actions]:
                if isinstance(action, PythonAction):
                    named.append((task.name, describe_action(action)))
            named += [(task.name, describe(u, a, k)) for u, a, k in task.uptodate if callable(u)]
    assert len(named) > 50
    assert [n for n in named if "<lambda>" in n[1] or "wrapper(" in n[1]] == []


def test_task_creators_write_no_lambda() -> None:
    # Also what the loaded tasks above cannot show: value_savers appended while a check runs.
    creators = sorted((REPO / "tasks" / "families").rglob("*.py"))
    found = [
        f"{path.relative_to(REPO)}:{node.lineno}"
        for path in creators
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Lambda)
    ]
    assert len(creators) >= 10
    assert found == []


def test_status_of_minikube_images_with_minikube_down_is_not_a_traceback(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakes = tmp_path / "bin"
    harness.script(
        fakes,
        "minikube",
        "echo 'X Exiting due to GUEST_STATUS: Profile \"srvthreds\" not found' >&2\nexit 85\n",
    )
    fake_docker.install(fakes, tmp_path / "docker-state")  # the status of the local images asks docker
    harness.install(fakes, "kubectl", "testing.fakes.kubectl")  # no cluster: the cloud deploys' status asks
    monkeypatch.setenv("FAKE_K8S_STATE", str(tmp_path / "k8s-state"))
    monkeypatch.setenv("PATH", harness.fake_path(fakes))  # the fakes before the venv's own programs
    listed = run_doit(project, "--all", "--status", command="list")
    assert listed.code == 0, listed.out
    assert "Traceback" not in listed.out
    assert "R minikube_images:engine" in listed.out, listed.out  # not done: it would run
    info = run_doit(project, "minikube_images:engine", command="info")
    assert "Traceback" not in info.out and "status     : run" in info.out, info.out
