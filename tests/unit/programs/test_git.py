"""tasks/programs/git.py with the real git: the commit a release record names."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.programs import git
from testing.harness import FakeBin
from testing.project import git as _git


def test_head_is_the_full_commit_and_says_when_tracked_files_differ(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    assert git.head(repo) is None  # no commit yet
    (repo / "a.txt").write_text("1\n")
    _git(repo, "add", "a.txt")
    _git(repo, "commit", "-qm", "one")
    sha = _git(repo, "rev-parse", "HEAD")
    assert git.head(repo) == sha and len(sha) == 40
    (repo / "new.txt").write_text("untracked\n")
    assert git.head(repo) == sha  # an untracked file is not what the image was built from
    (repo / "a.txt").write_text("2\n")
    assert git.head(repo) == f"{sha}-dirty"


def test_outside_a_repository_there_is_no_commit(tmp_path: Path) -> None:
    assert git.head(tmp_path) is None


def test_uncommitted_names_the_paths_that_differ_from_head(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "deploy").mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / "deploy/release.yaml").write_text("1\n")
    (repo / "other.txt").write_text("1\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "one")
    record, pins = Path("deploy/release.yaml"), Path("deploy/kustomization.yaml")
    assert git.uncommitted(repo, record, pins) == []
    (repo / "other.txt").write_text("2\n")  # not asked about
    (repo / "deploy/release.yaml").write_text("2\n")
    (repo / "deploy/kustomization.yaml").write_text("new\n")
    assert git.uncommitted(repo, record, pins) == ["deploy/kustomization.yaml", "deploy/release.yaml"]
    assert git.uncommitted(tmp_path, record) == []  # outside a repository: head() says so


def test_a_file_with_a_one_letter_name_is_named(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "a").write_text("1\n")
    _git(repo, "add", "a")
    _git(repo, "commit", "-qm", "one")
    (repo / "a").write_text("2\n")  # ` M a`: four characters
    assert git.uncommitted(repo, Path("a")) == ["a"]


def test_without_git_there_is_no_commit_and_nothing_uncommitted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert git.head(tmp_path) is None
    assert git.uncommitted(tmp_path, Path("deploy/release.yaml")) == []


def fake_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> FakeBin:
    fakes = FakeBin(tmp_path / "fakes")
    fakes.script("git", body)
    return fakes.activate(monkeypatch)


def test_a_failed_head_query_is_no_commit_whatever_it_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_git(tmp_path, monkeypatch, "echo 0123456789abcdef0123456789abcdef01234567; exit 1")
    assert git.head(tmp_path) is None


def test_a_failed_status_query_leaves_the_commit_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # rev-parse answers; status fails (a lock, a broken index): the commit, not an error.
    sha = "0123456789abcdef0123456789abcdef01234567"
    fake_git(
        tmp_path, monkeypatch, f'case "$3" in rev-parse) echo {sha} ;; *) echo broken >&2; exit 128 ;; esac'
    )
    assert git.head(tmp_path) == "0123456789abcdef0123456789abcdef01234567"


def test_a_status_line_too_short_to_name_a_file_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_git(tmp_path, monkeypatch, 'printf "M  \\n M deploy/release.yaml\\n"')
    assert git.uncommitted(tmp_path, Path("deploy/release.yaml")) == ["deploy/release.yaml"]
