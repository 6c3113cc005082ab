"""tasks/families/render.py: the render tasks, called directly on a scratch copy of the tool's checkout
or of another project (examples/guestbook: copies of the tool's modules and build folders)."""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from doit.exceptions import TaskFailed

from tasks.errors import StackError
from tasks.families import render as render_tasks
from tasks.families.shared.run import Run
from tasks.render import plan, templates
from testing.configs import LOCAL, load, small_project, stack
from testing.environments import render_tree
from testing.project import REPO


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the tool's checkout with what rendering reads (doit runs in the project root)."""
    monkeypatch.chdir(tmp_path)
    return render_tree(tmp_path)


def break_env(root: Path, env: str) -> None:
    (root / "environments" / f"{env}.yaml").write_text("nonsense_key: 1\n")


def test_check_all_reports_each_broken_file_once(tree: Path) -> None:
    render_tasks.check_all(tree)
    break_env(tree, "dev")
    break_env(tree, "test")
    with pytest.raises(StackError) as info:
        render_tasks.check_all(tree)
    assert "environments/dev.yaml" in info.value.message and "environments/test.yaml" in info.value.message
    (tree / "environments" / "stack.yaml").write_text("nonsense_key: 1\n")
    with pytest.raises(StackError) as stack:
        render_tasks.check_all(tree)
    assert stack.value.message.count("environments/stack.yaml") == 1  # every environment merges it


def test_write_says_what_it_wrote_and_removed(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "compose" / "local").mkdir(parents=True)
    stale = tree / "compose" / "local" / "old.yml"
    stale.write_text("# " + templates.header_text("compose/old.yml.j2") + "\n")
    render_tasks.write(partial(plan.env_compose, "local"), ("compose/local",), tree)
    out = capsys.readouterr().out
    assert "  wrote compose/local/docker-compose-services.yml" in out
    assert "  removed compose/local/old.yml" in out and not stale.exists()
    render_tasks.write(partial(plan.env_compose, "local"), ("compose/local",), tree)
    assert capsys.readouterr().out == ""  # nothing changed: nothing said


class Task:
    """What doit hands an uptodate check: the task's targets and its value savers."""

    def __init__(self, targets: list[str]) -> None:
        self.targets = targets
        self.value_savers: list[Any] = []


def saved(targets: list[str]) -> dict[str, Any]:
    """The value doit saves after a successful run of a task with these targets."""
    task = Task(targets)
    render_tasks.outputs_unchanged(task, {})
    value: dict[str, Any] = task.value_savers[-1]()
    return value


def test_the_saved_digest_tracks_the_bytes_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("a").write_text("1")
    Path("b").write_text("2")
    digest = saved(["a", "b"])
    assert digest["outputs"] and saved(["b", "a"]) == digest  # order does not matter
    task = Task(["a", "b"])
    assert render_tasks.outputs_unchanged(task, digest) is True
    assert task.value_savers[0]() == digest
    assert render_tasks.outputs_unchanged(task, {}) is False
    Path("b").write_text("3")
    assert render_tasks.outputs_unchanged(task, digest) is False
    Path("b").unlink()
    missing = saved(["a", "b"])
    assert missing != saved(["a"])  # a target that went missing changes it
    Path("b").write_text("")
    assert saved(["a", "b"]) != missing  # an empty file is not a missing one


def test_the_render_tasks_fail_only_where_a_file_is_broken(tree: Path) -> None:
    break_env(tree, "dev")
    resolved = Run(tree, "run", ["render:compose-local"], {}, "local", ["dev", "local", "minikube"])
    tasks = {t["name"]: t for t in render_tasks.task_render(resolved)}
    assert list(tasks) == [
        "config",
        "k8s-base",
        "k8s-components",
        "compose-dev",
        "compose-local",
        "compose-minikube",
        "k8s-minikube",
        "docs-placement",
        "prune",
    ]
    action = tasks["compose-dev"]["actions"][0]
    assert isinstance(action(), TaskFailed) and "environments/dev.yaml" in str(action())
    assert tasks["config"]["file_dep"][:4] == [
        "environments/stack.yaml",
        "environments/dev.yaml",
        "environments/local.yaml",
        "environments/minikube.yaml",
    ]
    local = tasks["compose-local"]
    assert local["targets"] == sorted(plan.env_compose("local", tree))
    assert {"environments/stack.yaml", "environments/local.yaml"} <= set(local["file_dep"])
    # No `clean`: `doit clean` must never delete committed generated files.
    assert "clean" not in local and local["uptodate"] == [render_tasks.outputs_unchanged]
    assert tasks["docs-placement"]["targets"] == []  # it reads every environment, and dev is broken


def test_prune_waits_for_every_subtask_that_writes(tree: Path) -> None:
    resolved = Run(tree, "run", ["render"], {}, "local", ["dev", "local"])
    tasks = {t["name"]: t for t in render_tasks.task_render(resolved)}
    writers = [f"render:{name}" for name in tasks if name not in ("config", "prune")]
    assert "render:terraform-dev" in writers and "render:k8s-dev" in writers
    assert sorted(tasks["prune"]["task_dep"]) == sorted(writers)


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of examples/guestbook: a project of its own, with copies of the tool's Terraform
    modules and database build folders (doit runs in the project root)."""
    root = tmp_path / "guestbook"
    shutil.copytree(REPO / "examples" / "guestbook", root, ignore=shutil.ignore_patterns(".build", ".env"))
    monkeypatch.chdir(root)
    return root


def test_a_module_of_the_teams_own_is_never_replaced_by_a_copy(example: Path) -> None:
    modules = example / "terraform" / "modules"
    (modules / "README.md").write_text("Our modules.\n")  # hand-written: it lists no copies
    main = modules / "eks" / "main.tf"
    main.write_text(main.read_text() + "# ours\n")
    # The project's own README comes first: render refuses before it writes anything.
    with pytest.raises(StackError, match="terraform/modules/README.md is the project's own"):
        render_tasks.write(plan.terraform_modules, (), example)
    assert main.read_text().endswith("# ours\n") and (modules / "README.md").read_text() == "Our modules.\n"


def test_a_copy_no_environment_calls_is_removed(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    modules = example / "terraform" / "modules"
    main = modules / "eks" / "main.tf"
    main.write_text(main.read_text() + "# edited\n")
    readme = modules / "README.md"
    readme.write_text(readme.read_text() + "| `redis-cloud` | dev |\n")  # a copy an environment called
    shutil.copytree(REPO / "terraform" / "modules" / "redis-cloud", modules / "redis-cloud")
    render_tasks.write(plan.terraform_modules, (), example)
    out = capsys.readouterr().out
    assert "  wrote terraform/modules/eks/main.tf" in out and "# edited" not in main.read_text()
    assert "  removed terraform/modules/redis-cloud/main.tf" in out and not (modules / "redis-cloud").exists()


def test_a_build_copy_keeps_its_sources_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    root = small_project(tmp_path)
    data = stack()
    data["databases"]["pg"]["build"] = "docker/rabbitmq"  # the tool's build folder: render copies it
    load(root, data, {**LOCAL, "placement": {"pg": "compose"}})
    entrypoint = root / "docker" / "rabbitmq" / "entrypoint.sh"
    render_tasks.write(plan.docker_builds, (), root)
    assert entrypoint.stat().st_mode & 0o777 == 0o755  # the writer writes 0644
    entrypoint.chmod(0o644)
    render_tasks.write(plan.docker_builds, (), root)
    assert entrypoint.stat().st_mode & 0o777 == 0o755


def test_prune_removes_a_deleted_environments_outputs_and_keeps_the_teams_files(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert render_tasks.nothing_to_prune(example) is True
    (example / "environments" / "offline.yaml").unlink()
    made = sorted(p.relative_to(example).as_posix() for p in (example / "compose" / "offline").rglob("*"))
    assert made
    mine = example / "compose" / "offline" / "notes.txt"
    mine.write_text("ours\n")
    assert render_tasks.nothing_to_prune(example) is False
    break_env(example, "local")
    assert render_tasks.nothing_to_prune(example) is True  # a broken file's outputs only look stale
    render_tasks.prune(example)
    assert all((example / rel).exists() for rel in made) and capsys.readouterr().out == ""
    shutil.copy(REPO / "examples" / "guestbook" / "environments" / "local.yaml", example / "environments")
    render_tasks.prune(example)
    said = capsys.readouterr()
    assert all(f"  removed {rel}" in said.out for rel in made)
    assert not any((example / rel).exists() for rel in made)
    assert "NOTE: kept compose/offline/notes.txt: render did not make it" in said.err and mine.exists()
    assert render_tasks.nothing_to_prune(example) is True
