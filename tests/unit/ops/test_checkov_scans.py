"""tasks/ops/checkov_scans.py: a scan is narrowed to the files no passing scan saw, a folder scan
is one key over its files, and checkov's identity and configuration are part of every key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.ops import checkov_scans

CONFIG = Path(".checkov.yaml")


@pytest.fixture(autouse=True)
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    CONFIG.write_text("quiet: true\n")
    for name in ("a.yaml", "b.yaml"):
        Path(name).write_text(f"kind: ConfigMap\nmetadata: {{name: {name[0]}}}\n")
    Path("tf").mkdir()
    Path("tf/main.tf").write_text("# one\n")
    return tmp_path


FILES = ("kubernetes", ["--framework", "kubernetes", "-f", "a.yaml", "-f", "b.yaml"])
FOLDER = ("terraform", ["-d", "tf", "--framework", "terraform"])


def passed_all(scans: list[tuple[str, list[str]]]) -> set[str]:
    return {key for item in checkov_scans.pending(scans, config=CONFIG, known=set()) for key in item.keys}


def test_split_separates_the_named_files_from_the_options() -> None:
    assert checkov_scans.split(FILES[1]) == (["--framework", "kubernetes"], ["a.yaml", "b.yaml"])
    assert checkov_scans.split(["-f"]) == ([], [""])


def test_nothing_is_pending_once_every_input_passed() -> None:
    known = passed_all([FILES, FOLDER])
    assert len(known) == 3  # one key a file, one for the folder
    assert checkov_scans.pending([FILES, FOLDER], config=CONFIG, known=known) == []


def test_a_changed_file_is_the_only_one_scanned_again() -> None:
    known = passed_all([FILES])
    Path("b.yaml").write_text("kind: ConfigMap\nmetadata: {name: b2}\n")
    [item] = checkov_scans.pending([FILES], config=CONFIG, known=known)
    assert item.framework == "kubernetes"
    assert item.args == ["--framework", "kubernetes", "-f", "b.yaml"]
    assert len(item.keys) == 1 and item.keys[0] not in known


def test_a_file_added_under_a_scanned_folder_scans_the_folder_again() -> None:
    known = passed_all([FOLDER])
    Path("tf/extra.tf").write_text("# two\n")
    [item] = checkov_scans.pending([FOLDER], config=CONFIG, known=known)
    assert item.args == FOLDER[1]


def test_another_configuration_or_checkov_scans_everything_again(monkeypatch: pytest.MonkeyPatch) -> None:
    known = passed_all([FILES, FOLDER])
    CONFIG.write_text("quiet: false\n")
    assert len(checkov_scans.pending([FILES, FOLDER], config=CONFIG, known=known)) == 2
    CONFIG.write_text("quiet: true\n")
    fake = Path("checkov")
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(Path.cwd()))
    assert len(checkov_scans.pending([FILES, FOLDER], config=CONFIG, known=known)) == 2


def test_a_missing_file_is_scanned_and_never_matches_one_that_exists() -> None:
    Path("a.yaml").unlink()
    missing = passed_all([FILES])
    Path("a.yaml").write_text("")
    [item] = checkov_scans.pending([FILES], config=CONFIG, known=missing)
    assert item.args[-2:] == ["-f", "a.yaml"]
