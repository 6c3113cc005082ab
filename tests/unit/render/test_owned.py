"""tasks/render/owned.py: which files render made, and where it may write."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.render import owned
from tasks.store import paths


def test_a_file_is_generated_when_its_header_says_so(tmp_path: Path) -> None:
    made = tmp_path / "a.yaml"
    made.write_text("# Generated from templates/a.j2 by `doit render`. Do not edit.\n")
    mine = tmp_path / "b.yaml"
    mine.write_text("# mine\n" + "`doit render`".rjust(400))  # the mark only far down: not a header
    assert owned.generated(made) and not owned.generated(mine)
    assert not owned.generated(tmp_path / "missing")
    assert owned.generated_under(tmp_path, ["."]) == ["a.yaml"]


def test_the_modules_readme_lists_the_copies(tmp_path: Path) -> None:
    readme = tmp_path / "terraform" / "modules" / "README.md"
    readme.parent.mkdir(parents=True)
    readme.write_text(
        "<!-- Generated ... by `doit render`. -->\n| module | by |\n|---|---|\n| `eks` | dev |\n"
    )
    assert owned.listed_copies(tmp_path) == {"eks"}
    readme.write_text("| `eks` | dev |\n")  # written by hand: it lists nothing of render's
    assert owned.listed_copies(tmp_path) == set()


def test_a_copy_is_listed_or_the_tools_bytes(tmp_path: Path) -> None:
    folder = tmp_path / "terraform" / "modules" / "eks"
    folder.mkdir(parents=True)
    (folder / "main.tf").write_text("# ours\n")
    assert owned.is_copy(tmp_path, "terraform/modules/eks/main.tf", {"eks"})
    assert not owned.is_copy(tmp_path, "terraform/modules/eks/main.tf", set())
    tool = paths.TOOL / "terraform" / "modules" / "eks" / "main.tf"
    (folder / "main.tf").write_bytes(tool.read_bytes())
    assert owned.is_copy(tmp_path, "terraform/modules/eks/main.tf", set())
    assert not owned.is_copy(tmp_path, "terraform/modules/README.md", {"eks"})


def test_a_foreign_file_where_a_copy_goes_is_refused(tmp_path: Path) -> None:
    own = tmp_path / "terraform" / "modules" / "eks" / "main.tf"
    own.parent.mkdir(parents=True)
    own.write_text("# ours\n")
    outputs = {"terraform/modules/eks/main.tf": "# the tool's\n"}
    with pytest.raises(StackError, match="terraform/modules/eks/main.tf was not made by render"):
        owned.refuse_foreign_copies(outputs, tmp_path, set())
    owned.refuse_foreign_copies(outputs, tmp_path, {"eks"})  # a copy of render's: replaced
    owned.refuse_foreign_copies({"terraform/modules/eks/main.tf": "# ours\n"}, tmp_path, set())


def test_outside_names_the_link_that_leaves_the_project(tmp_path: Path) -> None:
    project, elsewhere = tmp_path / "p", tmp_path / "e"
    (project / "k8s").mkdir(parents=True)
    elsewhere.mkdir()
    (project / "k8s" / "overlays").symlink_to(elsewhere, target_is_directory=True)
    assert owned.outside(project, "k8s/overlays/dev/a.yaml") == ("k8s/overlays", elsewhere)
    assert owned.outside(project, "k8s/base/a.yaml") is None
    (project / "inside").symlink_to(project / "k8s", target_is_directory=True)
    assert owned.outside(project, "inside/a.yaml") is None
