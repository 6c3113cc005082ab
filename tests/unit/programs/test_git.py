"""tasks/programs/git.py with the real git: the commit a release record names."""

from __future__ import annotations

from pathlib import Path

from tasks.programs import git
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
