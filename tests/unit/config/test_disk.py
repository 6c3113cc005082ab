"""tasks/config/disk.py: the rules' questions to the disk, recorded inside `recording()` (each
once), and asked again by `still_true`, which fails as soon as one answer changed."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tasks.config import disk


def test_kind_tells_folders_files_special_files_and_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "link").symlink_to(tmp_path / "f")
    kinds = [disk.kind(tmp_path / n) for n in ("", "f", "pipe", "link", "none", "f/under")]
    assert kinds == ["dir", "file", "other", "file", "missing", "missing"]


def test_real_follows_symlinks_and_names_lists_sorted_visible_names(tmp_path: Path) -> None:
    (tmp_path / "target").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "target")
    assert disk.real(tmp_path / "link" / "x") == str(tmp_path.resolve() / "target" / "x")
    for name in ("b.yml", "a.yml", ".#a.yml", "c.yaml"):
        (tmp_path / name).write_text("")
    assert disk.names(tmp_path, "*.yml") == ["a.yml", "b.yml"]


def test_a_recording_keeps_each_question_once_and_nothing_outside_it(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x AS build\n")
    disk.kind(tmp_path)  # outside: not kept
    with disk.recording() as probes:
        assert disk.kind(tmp_path) == "dir"
        assert disk.kind(tmp_path) == "dir"
        assert disk.text(tmp_path / "Dockerfile") == "FROM x AS build\n"
        with disk.recording() as inner:
            disk.names(tmp_path, "*.yml")
    assert [p[0] for p in inner] == ["names"]
    assert [p[0] for p in probes] == ["kind", "text", "names"]  # the inner one's too
    assert disk.still_true(probes)


def _recorded(tmp_path: Path) -> list[disk.Probe]:
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM x AS build\n")
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with disk.recording() as probes:
        disk.kind(tmp_path / "ctx")
        disk.text(tmp_path / "ctx" / "Dockerfile")
        disk.real(tmp_path / "link")
        disk.names(tmp_path, "*.yml")
    return probes


def _folder_became_a_file(t: Path) -> None:
    shutil.rmtree(t / "ctx")
    (t / "ctx").write_text("")


def _link_pointed_elsewhere(t: Path) -> None:
    (t / "link").unlink()
    (t / "link").symlink_to(t / "ctx")


CHANGES: dict[str, Callable[[Path], object]] = {
    "a folder became a file": _folder_became_a_file,
    "a Dockerfile was edited": lambda t: (t / "ctx" / "Dockerfile").write_text("FROM x AS other\n"),
    "a Dockerfile was removed": lambda t: (t / "ctx" / "Dockerfile").unlink(),
    "a link was pointed elsewhere": _link_pointed_elsewhere,
    "a matching file appeared": lambda t: (t / "qa.yml").write_text(""),
}


@pytest.mark.parametrize("what", CHANGES)
def test_every_changed_answer_makes_a_recording_untrue(tmp_path: Path, what: str) -> None:
    probes = _recorded(tmp_path)
    assert disk.still_true(probes)
    CHANGES[what](tmp_path)
    assert not disk.still_true(probes)


def test_a_hidden_file_or_an_unknown_question_is_judged_as_it_should(tmp_path: Path) -> None:
    probes = _recorded(tmp_path)
    (tmp_path / ".#qa.yml").write_text("")  # an editor's lock file is no environment
    assert disk.still_true(probes)
    assert not disk.still_true([*probes, ("question of a later version", str(tmp_path), "")])


def test_a_symlink_loop_is_answered_never_raised(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    with disk.recording() as probes:
        assert disk.real(tmp_path / "ctx" / "Dockerfile") == str(tmp_path.resolve() / "ctx" / "Dockerfile")
        assert disk.kind(tmp_path / "ctx") == "dir"
    shutil.rmtree(tmp_path / "ctx")
    (tmp_path / "ctx").symlink_to(tmp_path / "loop")
    (tmp_path / "loop").symlink_to(tmp_path / "ctx")
    assert not disk.still_true(probes)  # asked again: a changed answer, no RuntimeError
    assert not disk.still_true(probes[:1] + [("real", str(tmp_path / "ctx" / "x"), "")])
    assert disk.real(tmp_path / "ctx" / "Dockerfile").startswith(str(tmp_path.resolve()))
    assert disk.kind(tmp_path / "ctx") == "missing"
