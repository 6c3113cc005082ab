"""tasks/render/writer.py: outputs parsed, then written all or nothing; stale outputs and copies pruned,
build copies given their sources' modes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.model import Config
from tasks.render import build_copies, templates, writer
from tasks.store import paths
from testing.configs import LOCAL, load, small_project, stack


def test_write_all_skips_unchanged_files_and_leaves_no_temp(tmp_path: Path) -> None:
    assert writer.write_all({"a/x.txt": "1\n", "b/y.txt": "2\n"}, tmp_path) == ["a/x.txt", "b/y.txt"]
    assert writer.write_all({"a/x.txt": "1\n", "b/y.txt": "2\n"}, tmp_path) == []
    assert not list(tmp_path.rglob("*.tmp"))


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_write_all_is_all_or_nothing(tmp_path: Path) -> None:
    # A failure in the middle of writing (here the second of three files: its folder is a
    # file) leaves every file as it was: the first one is not replaced either.
    writer.write_all(
        {"a/x.txt": "old x\n", "b": "a file where a folder is wanted\n", "c/z.txt": "old z\n"}, tmp_path
    )
    before = _tree(tmp_path)
    with pytest.raises(StackError) as err:
        writer.write_all({"a/x.txt": "new x\n", "b/y.txt": "new y\n", "c/z.txt": "new z\n"}, tmp_path)
    assert "cannot write b/y.txt" in err.value.message
    assert _tree(tmp_path) == before  # no file changed, no temp file left


def test_write_all_puts_back_what_it_replaced_when_a_rename_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    writer.write_all({"a/x.txt": "old x\n", "c/z.txt": "old z\n"}, tmp_path)
    before = _tree(tmp_path)
    real_replace, calls = os.replace, []

    def flaky_replace(src: str | Path, dst: str | Path) -> None:
        calls.append(dst)
        if len(calls) == 3:  # the last of the three new files
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(StackError, match="cannot write"):
        writer.write_all({"a/x.txt": "new x\n", "b/y.txt": "new y\n", "c/z.txt": "new z\n"}, tmp_path)
    monkeypatch.setattr(os, "replace", real_replace)
    assert _tree(tmp_path) == before


def test_write_all_prunes_only_generated_files(tmp_path: Path) -> None:
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "old.yaml").write_text("# Generated from templates/x by `doit render`. Do not edit.\n")
    (tmp_path / "k" / "mine.yaml").write_text("hand-written\n")
    writer.write_all({"k/new.yaml": "x\n"}, tmp_path, prune=["k"])
    assert sorted(p.name for p in (tmp_path / "k").iterdir()) == ["mine.yaml", "new.yaml"]


def test_write_all_never_prunes_another_runs_temp_file(tmp_path: Path) -> None:
    (tmp_path / "k").mkdir()
    in_flight = tmp_path / "k" / ".new.yaml.abc123.tmp"
    in_flight.write_text("# Generated from templates/x by `doit render`. Do not edit.\n")
    writer.write_all({"k/new.yaml": "x\n"}, tmp_path, prune=["k"])
    assert in_flight.exists()


def test_pruned_files_are_reported_as_changed(tmp_path: Path) -> None:
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "old.yaml").write_text("# " + templates.header_text("x.j2") + "\n")
    assert writer.write_all({"k/new.yaml": "x\n"}, tmp_path, prune=["k"]) == ["k/new.yaml", "k/old.yaml"]


def test_a_file_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("a file where a folder should be")
    with pytest.raises(StackError) as info:
        writer.write_all({"a/x.yaml": "1\n"}, tmp_path)
    assert info.value.message.startswith("cannot write a/x.yaml: ") and "Errno" not in info.value.message
    assert info.value.fix == "make a a writable folder, then run `doit render` again"
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.yaml").mkdir()  # a folder where the file goes: it never holds the text
    with pytest.raises(StackError, match="cannot write d/x.yaml"):
        writer.write_all({"d/x.yaml": "1\n"}, tmp_path)


def test_invalid_yaml_output_is_refused_with_its_line() -> None:
    writer.parse_check({"a.md": "key: [\n", "b.yaml": "a: 1\n---\nb: 2\n"})
    with pytest.raises(StackError) as info:
        writer.parse_check({"ok.yaml": "a: 1\n", "c.yml": "a: 1\nb: [\n"})
    assert info.value.message.startswith("rendering produced invalid YAML in c.yml, line 3:")
    assert "its header names it" in (info.value.fix or "")


def test_only_unused_module_copies_and_their_readme_are_pruned(tmp_path: Path) -> None:
    modules = tmp_path / "terraform" / "modules"
    for name, text in (
        ("eks", "copy of the tool's\n"),
        ("ecr", "still used\n"),
        ("team", "the team's own\n"),
    ):
        (modules / name).mkdir(parents=True)
        (modules / name / "main.tf").write_text(text)
    (modules / "README.md").write_text("# Generated from templates/x by `doit render`. Do not edit.\n")
    (modules / "notes.md").write_text("top-level file, not a copy\n")
    listed = {"eks", "ecr"}  # what the README said before this render
    removed = writer.prune_copies({"terraform/modules/ecr/main.tf": "still used\n"}, tmp_path, listed)
    assert removed == ["terraform/modules/README.md", "terraform/modules/eks/main.tf"]
    assert not (modules / "eks").exists()  # an emptied module folder goes too
    assert (modules / "team" / "main.tf").exists() and (modules / "notes.md").exists()
    (modules / "README.md").write_text("hand-written\n")
    assert writer.prune_copies({}, tmp_path, set()) == []


def test_a_hand_written_file_where_a_copy_would_go_is_never_removed(tmp_path: Path) -> None:
    """terraform/modules/eks/main.tf of the team's own (not listed as a copy, not the tool's bytes)."""
    own = tmp_path / "terraform" / "modules" / "eks" / "main.tf"
    own.parent.mkdir(parents=True)
    own.write_text("# the team's own eks module\n")
    assert writer.prune_copies({}, tmp_path, set()) == []
    assert own.read_text() == "# the team's own eks module\n"
    # A file with the tool's very bytes in the team's module is still theirs: only a whole
    # folder that is the tool's module, unlisted, is a copy (made before the README listed them).
    tool = paths.TOOL / "terraform" / "modules" / "eks"
    (own.parent / "variables.tf").write_bytes((tool / "variables.tf").read_bytes())
    assert writer.prune_copies({}, tmp_path, set()) == []
    assert own.exists()
    shutil.rmtree(own.parent)
    shutil.copytree(tool, own.parent)
    removed = writer.prune_copies({}, tmp_path, set())
    assert removed and all(r.startswith("terraform/modules/eks/") for r in removed)
    assert not own.parent.exists()


def test_nothing_is_written_or_removed_through_a_symlink_out_of_the_project(tmp_path: Path) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    (project / "compose").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(StackError) as info:
        writer.write_all({"compose/dev/a.yml": "a: 1\n"}, project)
    assert info.value.message == (
        f"refusing to write compose/dev/a.yml: compose is a symlink to {elsewhere}, outside the project"
    )
    assert not list(elsewhere.iterdir())
    (elsewhere / "dev").mkdir()
    (elsewhere / "dev" / "old.yml").write_text(
        "# Generated from templates/x.j2 by `doit render`. Do not edit.\n"
    )
    with pytest.raises(StackError, match="refusing to remove compose/dev/old.yml"):
        writer.write_all({}, project, prune=("compose/dev",))
    assert (elsewhere / "dev" / "old.yml").exists()
    # A link that stays inside the project is followed.
    (project / "compose").unlink()
    (project / "real").mkdir()
    (project / "compose").symlink_to(project / "real", target_is_directory=True)
    assert writer.write_all({"compose/dev/a.yml": "a: 1\n"}, project) == ["compose/dev/a.yml"]
    assert (project / "real" / "dev" / "a.yml").read_text() == "a: 1\n"


def database_built_from(root: Path, build: str) -> Config:
    """The small project's database `pg`, built from one of the tool's build folders."""
    data = stack()
    data["databases"]["pg"]["build"] = build
    return load(root, data, {**LOCAL, "placement": {"pg": "compose"}})


def test_copies_keep_their_sources_mode(tmp_path: Path) -> None:
    root = small_project(tmp_path)
    outputs = templates.texts(build_copies.build_copies([database_built_from(root, "docker/rabbitmq")], root))
    for rel, text in outputs.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
        (root / rel).chmod(0o644)  # as the writer writes every file
    writer.sync_modes(outputs, root)
    assert (root / "docker/rabbitmq/entrypoint.sh").stat().st_mode & 0o777 == 0o755
    assert (root / "docker/rabbitmq/Dockerfile").stat().st_mode & 0o777 == 0o644


def test_an_unused_copy_is_removed_and_what_a_user_added_is_kept(tmp_path: Path) -> None:
    root = small_project(tmp_path)
    outputs = templates.texts(build_copies.build_copies([database_built_from(root, "docker/redis")], root))
    for rel, text in outputs.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    listed = build_copies.managed(root)
    assert listed == {"redis"}
    assert writer.prune_build_copies(outputs, root, listed) == []  # still used: nothing goes
    assert writer.prune_build_copies({}, root, listed) == ["docker/redis/Dockerfile", "docker/README.md"]
    assert not (root / "docker" / "redis").exists() and not (root / "docker").joinpath("README.md").exists()
    # A file the user put into a copy stays, with its folder.
    for rel, text in outputs.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "docker" / "redis" / "notes.txt").write_text("ours\n")
    assert writer.prune_build_copies({}, root, {"redis"}) == ["docker/redis/Dockerfile", "docker/README.md"]
    assert (root / "docker" / "redis" / "notes.txt").read_text() == "ours\n"


def test_a_changed_output_behind_a_link_out_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (project / "k8s").mkdir(parents=True)
    elsewhere.mkdir()
    (elsewhere / "a.yml").write_text("a: 1\n")
    (project / "compose").symlink_to(elsewhere, target_is_directory=True)
    outputs = {"compose/a.yml": "a: 1\n", "k8s/b.yml": "b: 1\n"}
    assert writer.changed_outputs(outputs, project) == ["k8s/b.yml"]
    writer.refuse_writes_out(outputs, project)  # the file behind the link already holds its text
    with pytest.raises(StackError) as info:
        writer.refuse_writes_out({**outputs, "compose/a.yml": "a: 2\n"}, project)
    assert info.value.message == (
        f"refusing to write compose/a.yml: compose is a symlink to {elsewhere}, outside the project"
    )
    assert not (project / "k8s" / "b.yml").exists() and (elsewhere / "a.yml").read_text() == "a: 1\n"
