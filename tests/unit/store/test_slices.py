"""tasks/store/slices.py: a slice's output is kept by its key, and a kept file that is
missing, damaged or not a file is only a slice to build again."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tasks.store import slices, state


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_an_output_written_is_read_back_by_its_key_only() -> None:
    assert slices.write("dev", key("a"), "kind: ConfigMap\n")
    assert slices.read("dev", key("a")) == "kind: ConfigMap\n"
    assert slices.read("dev", key("b")) is None
    assert slices.read("staging", key("a")) is None  # one folder per environment


def test_a_damaged_output_reads_as_never_kept() -> None:
    slices.write("dev", key("a"), "kind: ConfigMap\nmetadata: {name: a}\n")
    path = state.kustomize_slices("dev") / f"{key('a')}.yaml"
    path.write_text(path.read_text()[:-5])  # cut short
    assert slices.read("dev", key("a")) is None
    path.write_bytes(b"\xff\xfe not text")
    assert slices.read("dev", key("a")) is None


def test_a_folder_where_the_output_goes_is_a_slice_to_build_again() -> None:
    (state.kustomize_slices("dev") / f"{key('a')}.yaml").mkdir(parents=True)
    assert slices.read("dev", key("a")) is None
    assert slices.write("dev", key("a"), "x: 1\n") is False


def test_keep_only_removes_the_outputs_of_slices_gone() -> None:
    for name in ("a", "b", "c"):
        slices.write("dev", key(name), f"{name}: 1\n")
    slices.keep_only("dev", [key("b")])
    assert sorted(p.name for p in state.kustomize_slices("dev").glob("*.yaml")) == [f"{key('b')}.yaml"]


def test_scratch_is_a_new_empty_folder_and_clear_scratch_removes_it() -> None:
    work = slices.scratch("dev")
    (work / "left.yaml").write_text("x")
    assert list(slices.scratch("dev").iterdir()) == []
    slices.clear_scratch("dev")
    assert not work.exists()


def test_a_key_that_is_no_hash_is_refused() -> None:
    with pytest.raises(ValueError, match="not a slice key"):
        slices.read("dev", "../../etc/passwd")


def test_each_scope_keeps_its_own_outputs() -> None:
    slices.write("dev", key("a"), "validated: 1\n")
    slices.write("dev", key("b"), "pinned: 1\n", "pinned")
    assert slices.read("dev", key("b")) is None and slices.read("dev", key("a"), "pinned") is None
    slices.keep_only("dev", [], "pinned")  # deploy's cleanup never touches validation's
    assert slices.read("dev", key("a")) == "validated: 1\n"
    slices.write("dev", key("b"), "pinned: 1\n", "pinned")
    slices.keep_only("dev", [])
    assert slices.read("dev", key("b"), "pinned") == "pinned: 1\n"
    assert slices.folder("dev", "pinned") == state.kustomize_slices("dev") / "pinned"
    work = slices.scratch("dev", "pinned")
    assert work.parent == slices.folder("dev", "pinned")
