"""`doit info` names actions and checks (no lambdas, no addresses) and the real reason to run."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from doit.action import PythonAction
from doit.loader import load_tasks

from tasks.cli.info_cmd import describe, describe_action
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
    result = run_doit(project, "images:engine", command="info")
    changed = result.out.split("The following file dependencies have changed:")[1].split(" * ")[0]
    assert "demo/srvthreds_demo/engine.py" in changed


def test_no_task_runs_or_checks_a_lambda(project: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
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


# --------------------------------------------------------------------------- naming, directly


class _Named:
    def __init__(self, name: str | None = None, env: str | None = None) -> None:
        self.name = name
        self.env = env


def _step(*args: object, **kwargs: object) -> None:
    """A module-level action."""


def test_each_argument_is_named_without_an_address() -> None:
    from functools import partial

    from tasks.cli.info_cmd import _arg

    def local() -> None:
        pass

    assert _arg("x") == "'x'" and _arg(3) == "3" and _arg(True) == "True"
    assert _arg(["a", 1]) == "['a', 1]" and _arg(("a", "b")) == "['a', 'b']"
    assert _arg([1, 2, 3, 4]) == "[1, 2, 3, 4]"
    assert _arg([1, 2, 3, 4, 5]) == "list"  # long lists are only named
    assert _arg([object()]) == "list"
    assert _arg(partial(_step, "a")) == "_step('a')"
    assert _arg(local) == "test_each_argument_is_named_without_an_address.local"
    assert _arg(_Named(name="api")) == "_Named(api)" and _arg(_Named(env="dev")) == "_Named(dev)"
    assert _arg(_Named()) == "_Named" and _arg(None) == "NoneType"


def test_partials_and_wrappers_are_unwrapped_in_order() -> None:
    from functools import partial, wraps

    @wraps(_step)
    def wrapper(*args: object, **kwargs: object) -> None:
        pass

    inner = partial(_step, 1, key="inner")
    outer = partial(inner, 2, other="x")
    assert describe(outer, (3,), {"key": "call"}) == "_step(1, 2, 3, key='call', other='x')"
    assert describe(wrapper, ("a",)) == "_step('a')"
    assert describe(partial(wrapper, "b")) == "_step('b')"
    assert describe_action(PythonAction(_step, ["a"], {"n": 1})) == "_step('a', n=1)"
    assert describe_action("echo hi") == "echo hi"
