"""tasks/ops/devwatch.py: what the loop watches comes from the configuration; editor temp
files and .git/ are never changes; a real file change arrives as one debounced batch."""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.model import Build, SyncRule
from tasks.ops import devwatch
from testing.configs import config, database, service


def test_watched_paths_come_from_the_configuration(tmp_path: Path) -> None:
    for folder in ("app", "other", "environments", "templates", "unused", "conf"):
        (tmp_path / folder).mkdir()
    (tmp_path / "other/Dockerfile").write_text("FROM x\n")
    cfg = config(
        "dev",
        [
            service("a", build=Build(context="app", dockerfile="app/Dockerfile"), inputs=("app/a.py",)),
            service(
                "b",
                build=Build(context="other", dockerfile="other/Dockerfile"),
                sync=(SyncRule("conf", "/etc/b", ""),),
            ),
        ],
        [],
    )
    got = [p.relative_to(tmp_path.resolve()).as_posix() for p in devwatch.watched(cfg, tmp_path)]
    # Outermost only (the Dockerfiles and inputs are inside their contexts), sync sources too;
    # missing paths skipped.
    assert got == ["app", "conf", "environments", "other", "templates"]


def test_the_builder_and_the_databases_built_here_are_watched_unless_disabled(tmp_path: Path) -> None:
    for folder in ("app", "builder", "cache", "old", "environments"):
        (tmp_path / folder).mkdir()
    cfg = config(
        "dev",
        [service("a")],
        [
            database("cache", build="cache"),
            database("old", placement="disabled", build="old"),
            database("pg"),
        ],
    )
    cfg = dataclasses.replace(
        cfg, images=dataclasses.replace(cfg.images, builder=Build("builder", "builder/Dockerfile"))
    )
    got = [p.relative_to(tmp_path.resolve()).as_posix() for p in devwatch.watched(cfg, tmp_path)]
    assert got == ["app", "builder", "cache", "environments"]


def test_a_missing_watcher_is_named_before_anything_is_watched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "watchfiles", None)  # not installed
    with pytest.raises(StackError) as info:
        devwatch.watched(config("dev", [service("a")], []), tmp_path)
    assert "watchfiles" in info.value.message + str(info.value.fix)
    with pytest.raises(StackError):
        next(devwatch.batches([tmp_path], tmp_path, threading.Event()))


@pytest.mark.parametrize(
    "path",
    [".git/index", "app/.build/x", "app/.main.py.swp", "app/main.py~", "app/4913", "app/.#main.py", "#m#"],
)
def test_editor_temp_files_and_git_are_ignored(path: str) -> None:
    assert devwatch.ignored(Path(path))


@pytest.mark.parametrize("path", ["app/main.py", "app/a#b.py", "app/x.tmp.py", "app/49130", "app/git/x"])
def test_a_source_file_is_not_ignored(path: str) -> None:
    assert not devwatch.ignored(Path(path))


def test_a_batch_of_only_ignored_files_is_empty(tmp_path: Path) -> None:
    assert (
        devwatch.relative({str(tmp_path / "app/.x.swp"), str(tmp_path / "node_modules/m.js")}, tmp_path) == []
    )


def test_relative_drops_ignored_and_outside_paths(tmp_path: Path) -> None:
    got = devwatch.relative({str(tmp_path / "a/x.py"), str(tmp_path / ".git/HEAD"), "/elsewhere/y"}, tmp_path)
    assert got == ["a/x.py"]


def test_a_change_arrives_as_one_batch_and_stop_ends_the_wait(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    stop = threading.Event()
    got: list[list[str]] = []

    def watch() -> None:
        for batch in devwatch.batches([tmp_path / "app"], tmp_path, stop):
            got.append(batch)
            stop.set()

    thread = threading.Thread(target=watch)
    thread.start()
    time.sleep(0.5)  # the watcher is up
    (tmp_path / "app/.x.swp").write_text("temp")
    (tmp_path / "app/main.py").write_text("print(1)\n")
    (tmp_path / "app/main.py").write_text("print(2)\n")  # within the debounce: the same batch
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert got == [["app/main.py"]]


def test_stop_ends_a_quiet_watch_quickly(tmp_path: Path) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=lambda: list(devwatch.batches([tmp_path], tmp_path, stop)))
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive() and time.monotonic() - started < 1.0
