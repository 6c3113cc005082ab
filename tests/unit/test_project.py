"""What a project's dodo.py gets (tasks/project.py), called directly."""

from __future__ import annotations

import ast
import fnmatch
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from doit import loader

from tasks import project
from tasks.cli.reporter import SummaryReporter
from tasks.families.shared import registry
from tasks.store import state
from testing.environments import copy_environments
from testing.project import REPO


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy_environments(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_dodo_exports_the_run_the_config_and_one_task_per_registered_creator(root: Path) -> None:
    names = project.dodo(["list", "env=dev"], root)
    run = names["RUN"]
    assert (run.command, run.env, run.root) == ("list", "dev", root)
    assert names["DOIT_CONFIG"]["reporter"] is SummaryReporter
    assert names["DOIT_CONFIG"]["dep_file"] == str(state.dep_file("dev"))
    tasks = {k for k in names if k.startswith("task_")}
    assert tasks == {f"task_{name}" for name in registry.creators()} and "task__preflight" in tasks
    assert {"task_render", "task_validate", "task_images", "task_compose", "task_minikube"} <= tasks
    assert names["task_doctor"]()["actions"][0][0].__name__ == "run_doctor"
    assert names["task_render"].__doc__ == registry.creators()["render"].__doc__  # `doit list` shows it


def test_the_creators_are_every_familys(root: Path) -> None:
    creators = project.creators()
    assert creators == registry.creators() and len(creators) >= 20
    assert {c.__module__ for c in creators.values()} >= {"tasks.families.compose", "tasks.families.deploy"}


def test_dodo_reads_the_command_line_and_the_folder_by_default(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["doit", "list", "env=staging"])
    run = project.dodo()["RUN"]
    assert (run.command, run.env, run.root) == ("list", "staging", root)


def test_importing_the_project_module_installs_the_interrupt_handlers() -> None:
    # Before any task module loads (and before dodo() runs): a fresh interpreter shows it.
    probe = (
        "import signal, sys\n"
        "import tasks.project\n"
        "print(getattr(sys.excepthook, 'stackbuild', False))\n"
        "try:\n"
        "    signal.raise_signal(signal.SIGTERM)\n"
        "except KeyboardInterrupt:\n"
        "    print('KeyboardInterrupt')\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "KeyboardInterrupt"]


def test_every_dodo_is_the_same_few_lines() -> None:
    """The repository's dodo.py and the example's are the same (one list of tasks)."""

    def calls(path: Path) -> str:
        tree = ast.parse(path.read_text())
        return ast.dump(
            ast.Module(body=[n for n in tree.body if not isinstance(n, ast.Expr)], type_ignores=[])
        )

    assert calls(REPO / "dodo.py") == calls(REPO / "examples" / "guestbook" / "dodo.py")


def _references(tasks: dict[str, Any]) -> set[str]:
    """The tasks these tasks name: task_dep (wildcards expanded over `tasks`), setup, getargs."""
    out: set[str] = set()
    for task in tasks.values():
        for ref in [*task.task_dep, *task.setup_tasks, *(ref[0] for ref in task.getargs.values())]:
            out |= {name for name in tasks if fnmatch.fnmatchcase(name, ref)} or {ref}
    return out


def _load(names: dict[str, Any]) -> dict[str, Any]:
    tasks = loader.load_tasks(names, command_names=(), allow_delayed=True)
    return {task.name: task for task in tasks}


@pytest.mark.parametrize("env", ["offline", "dev", "minikube", "staging", "local+hooks"])
def test_a_run_of_named_tasks_creates_every_task_they_depend_on(root: Path, env: str) -> None:
    if env.endswith("+hooks"):  # hooks are tasks of the Compose family that image builds wait for
        env = env.removesuffix("+hooks")
        path = root / "environments" / f"{env}.yaml"
        path.write_text(path.read_text() + "hooks:\n  pre_build: ['true']\n  post_build: ['true']\n")
    publics = sorted(project.dodo(["list"], root) and registry.tasks())  # (every family loaded)
    assert len(publics) > 20
    for public in publics:
        # A task that changes a cloud environment names exactly one: dev (not protected).
        mutating = registry.tasks()[public].mutating
        argv = [f"{public}:dev"] if mutating else [public, f"env={env}"]
        everything = _load(project.dodo(["list", f"env={'dev' if mutating else env}"], root))
        made_by = {target: name for name, task in everything.items() for target in task.targets}
        chosen = _load(project.dodo(argv, root))
        made = {n for n in everything if n == public or n.startswith(f"{public}:")}
        assert made <= set(chosen), public  # (minikube_load is made only for image-load clusters)
        missing = {ref for ref in _references(chosen) if ref not in chosen}
        assert not missing, f"{public} (env={env}) depends on tasks it does not create: {missing}"
        # A file another task makes is made in this run too, so doit still orders the two.
        inputs = {dep for task in chosen.values() for dep in task.file_dep if dep in made_by}
        assert {made_by[dep] for dep in inputs} <= set(chosen), public


def test_a_run_of_a_word_that_is_not_a_public_task_creates_every_task(root: Path) -> None:
    chosen = {k for k in project.dodo(["compose_up", "env=offline"], root) if k.startswith("task_")}
    every = {f"task_{name}" for name in registry.creators()}
    assert chosen < every
    # (a run naming no task: what dodo.py reads from sys.argv may not be what doit runs)
    for argv in (["info", "render"], ["list"], [], ["-a"], ["compose/offline/docker-compose-db.yml"]):
        assert {k for k in project.dodo(argv, root) if k.startswith("task_")} == every, argv
