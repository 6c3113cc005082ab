"""Rules about live sync (tasks/config/rules/sync.py), on a small made-up project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tasks.config.rules import sync as rules
from tasks.model import SyncRule
from testing.configs import KUBE, LOCAL, broken, cloud_env, load, read, refused, small_project, stack


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = small_project(tmp_path)
    (root / "app" / "main.py").write_text("print('hi')\n")
    (root / "app" / "lib").mkdir()
    return root


def synced(*rules_: dict[str, Any], service: str = "web") -> dict[str, Any]:
    data = stack()
    data["services"][service]["sync"] = list(rules_)
    return data


MAIN = {"source": "app/main.py", "target": "/srv/main.py", "restart": "container"}


def test_sync_rules_are_built_into_the_service(root: Path) -> None:
    cfg = load(root, synced(MAIN, {"source": "app/lib/", "target": "/srv/lib"}))
    assert cfg.services["web"].sync == (
        SyncRule("app/main.py", "/srv/main.py", "container"),
        SyncRule("app/lib", "/srv/lib", ""),
    )
    assert cfg.services["migrate"].sync == ()
    # Per environment, like every service key: an environment's file replaces the list.
    env = {**LOCAL, "services": {"web": {"sync": [{"source": "app/lib", "target": "/x"}]}}}
    assert load(root, stack(), env).services["web"].sync == (SyncRule("app/lib", "/x", ""),)


def test_sync_is_not_for_cloud_environments(root: Path) -> None:
    err = broken(rules.sync_is_not_for_cloud_environments, root, synced(MAIN), cloud_env())
    assert (err.file, err.keypath, err.line) == ("environments/stack.yaml", "services.web.sync", err.line)
    assert err.line is not None
    assert err.problem == "service 'web' has sync rules, but 'test' is a cloud environment"
    assert err.fix is not None and "sync: []" in err.fix
    # The cloud environment turns it off for itself: the rule holds.
    env = {**cloud_env(), "services": {"web": {"sync": []}}}
    rules.sync_is_not_for_cloud_environments(read(root, synced(MAIN), env))
    rules.sync_is_not_for_cloud_environments(read(root, synced(MAIN), LOCAL))


def test_only_deployments_sync(root: Path) -> None:
    err = broken(rules.only_deployments_sync, root, synced(MAIN, service="migrate"))
    assert (err.keypath, err.problem) == (
        "services.migrate.sync",
        "job 'migrate' has sync rules, but a job runs once: no container keeps running to sync into",
    )
    rules.only_deployments_sync(read(root, synced(MAIN)))


def test_sync_sources_stay_in_the_project(root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("elsewhere")
    (root / "app" / "link").symlink_to(outside)
    err = broken(rules.sync_sources_stay_in_the_project, root, synced({"source": "app/link", "target": "/x"}))
    assert err.keypath == "services.web.sync[0].source"
    assert err.problem == f"app/link leads out of the project (to {outside.resolve()}) through a symlink"
    rules.sync_sources_stay_in_the_project(read(root, synced(MAIN)))
    # `..` never gets that far: the field refuses it, at its line.
    err = refused(root, synced({"source": "../etc", "target": "/x"}))
    assert (err.keypath, err.line) == ("services.web.sync[0].source", err.line)
    assert err.line is not None and "relative path" in err.problem


def test_sync_sources_exist(root: Path) -> None:
    err = broken(rules.sync_sources_exist, root, synced(MAIN, {"source": "app/gone.py", "target": "/x"}))
    assert (err.keypath, err.problem, err.fix) == (
        "services.web.sync[1].source",
        "app/gone.py is not a file or folder in the project",
        "fix the path (relative to the project root, like the build contexts) or create it",
    )
    rules.sync_sources_exist(read(root, synced(MAIN, {"source": "app/lib", "target": "/x"})))


def test_sync_sources_are_in_the_build_context(root: Path) -> None:
    (root / "docs").mkdir()
    (root / "docs" / "a.md").write_text("x")
    rule = rules.sync_sources_are_in_the_build_context
    err = broken(rule, root, synced({"source": "docs/a.md", "target": "/x"}))
    assert err.keypath == "services.web.sync[0].source"
    assert err.problem == (
        "docs/a.md is not in the build context of 'web' (app), so no build of its image contains it"
    )
    # A sibling folder whose name starts like the context is not inside it.
    (root / "application").mkdir()
    data = synced({"source": "application", "target": "/x"})
    assert broken(rule, root, data).keypath == "services.web.sync[0].source"
    # The builder's context counts for a service that copies from the builder.
    data = synced({"source": "docs/a.md", "target": "/x"})
    data["images"]["service_build"]["builder"] = True
    data["images"]["builder"] = {"context": "docs", "dockerfile": "app/Dockerfile"}
    rules.sync_sources_are_in_the_build_context(read(root, data))
    rules.sync_sources_are_in_the_build_context(read(root, synced(MAIN)))


def test_restarting_the_container_is_for_compose(root: Path) -> None:
    err = broken(rules.restarting_the_container_is_for_compose, root, synced(MAIN), KUBE)
    assert err.keypath == "services.web.sync[0].restart"
    assert err.problem.startswith("`restart: container` on Kubernetes starts the container again")
    assert err.fix == "write a command that makes the running process reload its code, e.g. 'kill -HUP 1'"
    rules.restarting_the_container_is_for_compose(read(root, synced(MAIN), LOCAL))
    reload = {**MAIN, "restart": "kill -HUP 1"}
    rules.restarting_the_container_is_for_compose(read(root, synced(reload), KUBE))


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("srv/main.py", "is not an absolute path in the container"),
        ("", "is not an absolute path in the container"),
        ("/", "is the container's root: a sync would copy over the whole filesystem"),
        ("/srv/../etc/passwd", "climbs out of its folder with '..': say where the code lands directly"),
        ("/srv/ma in.py", "has characters a container path of this tool may not have"),
    ],
)
def test_a_sync_target_is_an_absolute_path_below_the_root(root: Path, bad: str, problem: str) -> None:
    err = refused(root, synced({"source": "app/main.py", "target": bad}))
    assert err.keypath == "services.web.sync[0].target"
    assert err.problem == f"{bad!r} {problem}"
    assert err.line is not None


@pytest.mark.parametrize("word", ["Container", "CONTAINER", " container"])
def test_the_restart_keyword_in_another_case_is_refused_not_run_as_a_command(root: Path, word: str) -> None:
    err = refused(root, synced({**MAIN, "restart": word}))
    assert err.keypath == "services.web.sync[0].restart" and err.line is not None
    assert err.problem == f"{word!r} is not the keyword 'container', and would run as a shell command"
    assert err.fix is not None and "`restart: container` (lower case)" in err.fix
    # The keyword and commands (even one that mentions containers) stay as they were.
    assert load(root, synced(MAIN)).services["web"].sync[0].restart == "container"
    command = {**MAIN, "restart": "touch /tmp/container"}
    assert load(root, synced(command)).services["web"].sync[0].restart == "touch /tmp/container"
    assert refused(root, synced({**MAIN, "restart": " "})).problem == "' ' is not a valid shell command"


def test_a_database_has_no_sync(root: Path) -> None:
    data = stack()
    data["databases"]["pg"]["sync"] = [MAIN]
    err = refused(root, data)
    assert (err.keypath, err.problem) == ("databases.pg.sync", "unknown key 'sync'")
