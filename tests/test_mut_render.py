"""Rendering (tasks/render/files.py), edges found unguarded by `bench/mutation.py render`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tasks.config import load as config
from tasks.errors import StackError
from tasks.render import files as render
from testing.project import REPO


@pytest.mark.parametrize(
    ("quantity", "cpus"), [("500m", "0.5"), ("1500m", "1.5"), ("2", "2"), ("0.25", "0.25"), ("1000m", "1")]
)
def test_cpu_quantities_become_compose_cpus(quantity: str, cpus: str) -> None:
    assert render.cpus(quantity) == cpus


@pytest.mark.parametrize(
    ("quantity", "memory"),
    [
        ("256Mi", "256m"),
        ("1Gi", "1g"),
        ("512Ki", "512k"),
        ("3K", "3k"),
        ("100M", "100m"),
        ("2G", "2g"),
        ("64", "64"),
    ],
)
def test_memory_quantities_become_compose_bytes(quantity: str, memory: str) -> None:
    assert render.memory(quantity) == memory


def test_only_placed_databases_get_an_endpoint() -> None:
    offline = config.load("offline", REPO)
    disabled = [db for db in offline.databases.values() if db.placement == "disabled"]
    assert disabled  # the offline environment runs without MongoDB
    endpoints = render.endpoints(offline)
    assert all(db.env_var not in endpoints for db in disabled)
    assert set(endpoints) == {db.env_var for db in offline.databases.values() if db.placement != "disabled"}


def test_invalid_yaml_output_is_refused_with_its_line() -> None:
    render.parse_check({"a.md": "key: [\n", "b.yaml": "a: 1\n---\nb: 2\n"})
    with pytest.raises(StackError) as info:
        render.parse_check({"ok.yaml": "a: 1\n", "c.yml": "a: 1\nb: [\n"})
    assert info.value.message.startswith("rendering produced invalid YAML in c.yml, line 3:")
    assert "its header names it" in (info.value.fix or "")


def test_a_missing_template_or_bad_syntax_names_the_template(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    render._jinja.cache_clear()
    try:
        with pytest.raises(StackError, match=r"templates/nope.j2: template not found \(needed for nope.j2\)"):
            render._render_now("nope.j2", {})
        template = project / "templates/k8s/base/namespace.yaml.j2"
        template.write_text("a\nb\n{% if %}\n")
        with pytest.raises(StackError, match=r"templates/k8s/base/namespace.yaml.j2, line 3: "):
            render._render_now("k8s/base/namespace.yaml.j2", {})
        template.write_text("x: {{ cfg }}\n\n\n")
        assert render._render_now("k8s/base/namespace.yaml.j2", {"cfg": "v"}) == "x: v\n"  # one newline
    finally:
        render._jinja.cache_clear()


def test_a_file_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("a file where a folder should be")
    with pytest.raises(StackError) as info:
        render.write_all({"a/x.yaml": "1\n"}, tmp_path)
    assert info.value.message.startswith("cannot write a/x.yaml: ") and "Errno" not in info.value.message
    assert info.value.fix == "make a a writable folder, then run `doit render` again"
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.yaml").mkdir()  # a folder where the file goes: it never holds the text
    with pytest.raises(StackError, match="cannot write d/x.yaml"):
        render.write_all({"d/x.yaml": "1\n"}, tmp_path)


def test_only_unused_module_copies_and_their_readme_are_pruned(tmp_path: Path) -> None:
    modules = tmp_path / "terraform" / "modules"
    (modules / "eks").mkdir(parents=True)
    (modules / "eks" / "main.tf").write_text("copy of the tool's\n")
    (modules / "ecr").mkdir()
    (modules / "ecr" / "main.tf").write_text("still used\n")
    (modules / "team").mkdir()
    (modules / "team" / "main.tf").write_text("the team's own module\n")
    (modules / "README.md").write_text("# Generated from templates/x by `doit render`. Do not edit.\n")
    (modules / "notes.md").write_text("top-level file, not a copy\n")
    removed = render.prune_copies({"terraform/modules/ecr/main.tf": "still used\n"}, tmp_path)
    assert removed == ["terraform/modules/README.md", "terraform/modules/eks/main.tf"]
    assert not (modules / "eks").exists()  # an emptied module folder goes too
    assert (modules / "team" / "main.tf").exists() and (modules / "notes.md").exists()
    (modules / "notes.md").unlink()
    for sub in ("team", "ecr"):
        (modules / sub / "main.tf").unlink()
    (modules / "README.md").write_text("hand-written\n")
    assert render.prune_copies({}, tmp_path) == []
    (modules / "README.md").unlink()
    assert render.prune_copies({}, tmp_path) == [] and not modules.exists()
    assert render.prune_copies({}, tmp_path) == []


def test_module_copies_are_the_tools_bytes_for_the_modules_roots_call(tmp_path: Path) -> None:
    dev = config.load("dev", REPO)
    local = config.load("local", REPO)
    used = render.modules_used(dev)
    assert used == sorted(used) and set(render.BASE_MODULES) <= set(used)
    copies = render.module_copies([dev, local])
    modules = sorted({path.split("/")[2] for path in copies if path != render.MODULES_README})
    assert modules == used  # only what dev's root calls; local has no cloud block
    main = REPO / "terraform" / "modules" / "eks" / "main.tf"
    assert copies["terraform/modules/eks/main.tf"]() == main.read_bytes().decode()
    assert "dev" in copies[render.MODULES_README]()
    assert render.module_copies([local]) == {}


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
        render._tool_module_files("eks")
    (tool / "templates").symlink_to(REPO / "templates", target_is_directory=True)
    files = render._tool_module_files("eks")
    assert [p.name for p in files] == sorted(p.name for p in (REPO / "terraform/modules/eks").iterdir())
    with pytest.raises(StackError, match="terraform/modules/nope is not where"):
        render._tool_module_files("nope")


def test_a_top_level_file_and_empty_nested_folders_in_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.store import paths

    tool = tmp_path / "tool"
    (tool / "terraform" / "modules").mkdir(parents=True)
    (tool / "terraform" / "modules" / "README.md").write_text("the tool's notes\n")
    monkeypatch.setattr(paths, "TOOL", tool)
    project = tmp_path / "project"
    modules = project / "terraform" / "modules"
    (modules / "empty" / "deeper" / "deepest").mkdir(parents=True)
    (modules / "README.md").write_text("the team's own notes\n")  # not in a module folder: not a copy
    assert render.prune_copies({}, project) == []
    assert (modules / "README.md").exists() and not (modules / "empty").exists()


def test_pruned_files_are_reported_as_changed(tmp_path: Path) -> None:
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "old.yaml").write_text("# " + render.header_text("x.j2") + "\n")
    assert render.write_all({"k/new.yaml": "x\n"}, tmp_path, prune=["k"]) == ["k/new.yaml", "k/old.yaml"]


def test_a_missing_tool_folder_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(StackError) as info:
        render._tool_folder(tmp_path / "gone", "templates are")
    assert (
        info.value.message
        == f"stackbuild's templates are not where the installed tool keeps them ({tmp_path / 'gone'})"
    )
    assert render._tool_folder(tmp_path, "templates are") == tmp_path


def test_jinja_trims_blocks_and_sorts_json(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    render._jinja.cache_clear()
    try:
        template = project / "templates/k8s/base/namespace.yaml.j2"
        template.write_text("a:\n  {% if true %}\n  b: {{ d | tojson }}\n  {% endif %}\n")
        assert render._render_now("k8s/base/namespace.yaml.j2", {"d": {"z": 1, "a": 2}}) == (
            'a:\n  b: {"a": 2, "z": 1}\n'
        )
        (project / "templates/k8s/base/inc.j2").write_text("ok\n{% if %}\n")
        template.write_text('{% include "k8s/base/inc.j2" %}\n')
        with pytest.raises(StackError, match=r"^templates/k8s/base/inc.j2, line 2: "):
            render._render_now("k8s/base/namespace.yaml.j2", {})
    finally:
        render._jinja.cache_clear()


def test_a_disabled_job_is_deleted_as_a_job() -> None:
    from dataclasses import replace

    stack = config.load_stack(REPO)
    minikube = config.load("minikube", REPO)
    jobs = [name for name, svc in minikube.services.items() if svc.kind == "job"]
    assert jobs
    without = replace(minikube, services={k: v for k, v in minikube.services.items() if k != jobs[0]})
    out = render.texts(render.k8s_overlay(without, stack))
    patch = out[f"k8s/overlays/minikube/delete-{jobs[0]}.patch.yaml"]
    assert "kind: Job" in patch and "batch/v1" in patch and "Deployment" not in patch


def test_only_a_cloud_environment_renders_terraform() -> None:
    with pytest.raises(AssertionError):
        render.terraform(config.load("local", REPO))
