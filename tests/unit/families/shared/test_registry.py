"""The task registry (tasks/families/shared/registry.py): what the families declare, and the
rules of declaring."""

from __future__ import annotations

import dataclasses
import pkgutil
from collections.abc import Iterator
from typing import Any

import pytest

from tasks import families
from tasks.families.shared import registry
from tasks.families.shared.registry import Scope, Task


@pytest.fixture(scope="module", autouse=True)
def loaded() -> None:
    families.load()


def test_every_family_module_is_loaded_and_registers_a_creator() -> None:
    modules = {m.name for m in pkgutil.iter_modules(families.__path__) if not m.ispkg}
    owners = {creator.__module__.rpartition(".")[2] for creator in registry.creators().values()}
    assert owners == modules and len(modules) >= 10


def test_a_creator_is_registered_under_doits_name_for_it() -> None:
    creators = registry.creators()
    assert {"render", "validate", "compose", "minikube", "deploy", "_preflight"} <= set(creators)
    assert all(creator.__name__ == f"task_{name}" for name, creator in creators.items())


def test_only_cloud_commands_that_change_something_are_mutating() -> None:
    mutating = {name for name, task in registry.tasks().items() if task.mutating}
    assert mutating == {"tf_apply", "push", "deploy", "rollback", "kubeconfig", "registry_login"}
    assert all(registry.tasks()[name].scope is Scope.NAMED for name in mutating)


def test_each_family_declares_its_scope_and_default_environment() -> None:
    tasks = registry.tasks()
    assert tasks["render"].scope is Scope.ALL and tasks["tf_fmt"].scope is Scope.NONE
    assert tasks["tf_plan"].scope is Scope.NAMED and not tasks["tf_plan"].mutating
    assert (tasks["compose_up"].scope, tasks["compose_up"].default_env) == (Scope.SELECTED, "local")
    # Old command names are a project's configuration (stack.yaml `aliases:`), not tasks.
    assert "s_a_dbs" not in tasks and "k8s_minikube" not in tasks
    assert {tasks[name].default_env for name in tasks if name.startswith("minikube_")} == {"minikube"}
    assert tasks["port_forward"].default_env == "minikube"


def test_every_option_is_known_by_name() -> None:
    known = registry.options()
    assert sorted(known) == [
        *("fix", "from", "host", "id", "keep", "level", "out", "port", "service", "tail", "to", "token"),
        "wipe",
    ]
    # One name, one meaning: every task that takes `service=` reads it as text.
    services = {opt for entry in registry.tasks().values() for opt in entry.options if opt.name == "service"}
    assert {(opt.kind, opt.default) for opt in services} == {(str, "")}
    assert registry.tasks()["compose_down"].options == (known["wipe"],)
    assert (known["keep"].kind, known["keep"].default) == (int, 3)
    assert (known["tail"].kind, known["tail"].default) == (int, 50)


def test_a_subtask_belongs_to_its_basename() -> None:
    assert registry.task("deploy:dev") is registry.tasks()["deploy"]
    assert registry.task("render") is registry.tasks()["render"]
    assert registry.task("nonsense") is None and registry.task("_preflight:images") is None


def test_the_registry_is_read_through_copies() -> None:
    registry.tasks().clear()
    registry.creators().clear()
    assert "render" in registry.tasks() and "render" in registry.creators()


def test_a_declared_task_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        registry.tasks()["deploy"].mutating = False  # type: ignore[misc]


def test_a_creator_or_a_task_is_registered_once() -> None:
    def task_render(run: Any) -> None:
        """Another render."""

    with pytest.raises(ValueError, match="a creator is one new `task_<name>` function"):
        registry.creator()(task_render)

    def task_other_render(run: Any) -> None:
        """Another creator of render."""

    with pytest.raises(ValueError, match="task 'render' is registered twice"):
        registry.creator(Task("render", Scope.ALL))(task_other_render)

    def make_tasks(run: Any) -> Iterator[None]:
        yield None

    with pytest.raises(ValueError, match="a creator is one new `task_<name>` function"):
        registry.creator()(make_tasks)
    assert "other_render" not in registry.creators() and "make_tasks" not in registry.creators()


def test_selected_tasks_share_a_default_and_take_their_own_options() -> None:
    opt = registry.options()["wipe"]
    one, two = registry.selected("a", "b", default_env="minikube", options={"b": (opt,)})
    assert one == Task("a", Scope.SELECTED, "minikube") and two.options == (opt,)


def test_a_run_of_named_tasks_needs_their_creators_and_what_those_declare() -> None:
    families.load()
    assert registry.needed(["render:compose-dev"]) == {"render"}
    assert {"compose", "images", "_preflight", "render"} <= (registry.needed(["compose_up"]) or set())
    assert "validate" not in (registry.needed(["compose_up"]) or set())
    both = registry.needed(["compose_up", "tf_fmt"]) or set()
    assert {"compose", "tf_fmt"} <= both and "minikube" not in both
    assert registry.needed([]) == set()
    assert registry.needed(["compose_up", "no_such_task"]) is None  # only the whole table answers
