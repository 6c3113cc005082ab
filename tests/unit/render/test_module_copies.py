"""tasks/render/module_copies.py: a project's copies of the tool's Terraform modules its roots call."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tasks.config import load as config
from tasks.errors import StackError
from tasks.render import module_copies
from testing.project import REPO


def test_module_copies_are_the_tools_bytes_for_the_modules_roots_call(tmp_path: Path) -> None:
    dev = config.load("dev", REPO)
    local = config.load("local", REPO)
    used = module_copies.modules_used(dev)
    assert used == sorted(used) and set(module_copies.BASE_MODULES) <= set(used)
    copies = module_copies.module_copies([dev, local], tmp_path)
    modules = sorted({path.split("/")[2] for path in copies if path != module_copies.MODULES_README})
    assert modules == used  # only what dev's root calls; local has no cloud block
    main = REPO / "terraform" / "modules" / "eks" / "main.tf"
    assert copies["terraform/modules/eks/main.tf"]() == main.read_bytes().decode()
    assert "dev" in copies[module_copies.MODULES_README]()
    assert module_copies.module_copies([local], tmp_path) == {}


def test_module_copies_skip_temp_files_and_need_the_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.store import paths

    tool = tmp_path / "tool"
    shutil.copytree(REPO / "terraform" / "modules" / "eks", tool / "terraform" / "modules" / "eks")
    (tool / "terraform" / "modules" / "eks" / ".main.tf.abc.tmp").write_text("another run's write")
    (tool / "terraform" / "modules" / "eks" / "sub").mkdir()
    monkeypatch.setattr(paths, "TOOL", tool)
    monkeypatch.chdir(tmp_path)  # a project, not the tool's checkout: the tool's templates are used
    with pytest.raises(StackError, match="templates are not where the installed tool keeps them"):
        module_copies.tool_module_files("eks")
    (tool / "templates").symlink_to(REPO / "templates", target_is_directory=True)
    files = module_copies.tool_module_files("eks")
    assert [p.name for p in files] == sorted(p.name for p in (REPO / "terraform/modules/eks").iterdir())
    with pytest.raises(StackError, match="terraform/modules/nope is not where"):
        module_copies.tool_module_files("nope")


def test_a_readme_of_the_projects_own_is_never_overwritten_and_the_way_out_is_said(tmp_path: Path) -> None:
    readme = tmp_path / module_copies.MODULES_README
    readme.parent.mkdir(parents=True)
    readme.write_text("# our modules\n")
    with pytest.raises(StackError) as info:
        module_copies.module_copies([config.load("dev", REPO)], tmp_path)
    assert info.value.message.startswith(
        "terraform/modules/README.md is the project's own, but `doit render` keeps the list of the "
        "copies of stackbuild's Terraform modules there (for "
    )
    assert info.value.fix == (
        "move your terraform/modules/README.md (e.g. to docs/terraform-modules.md), "
        "then run `doit render` again"
    )
    assert readme.read_text() == "# our modules\n"
    # render's own README (its header) is rewritten as before; no copies, nothing to refuse
    readme.write_text(
        module_copies.module_copies([config.load("dev", REPO)], tmp_path / "other")[
            module_copies.MODULES_README
        ]()
    )
    assert module_copies.MODULES_README in module_copies.module_copies([config.load("dev", REPO)], tmp_path)
    readme.write_text("# our modules\n")
    assert module_copies.module_copies([config.load("local", REPO)], tmp_path) == {}
