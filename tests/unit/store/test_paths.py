"""tasks/store/paths.py: where source things live, for the tool's checkout and for any other project.

Each test builds a small project in a temporary folder and runs from there, as doit does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tasks.config import load as config
from tasks.store import paths


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_tool_checkout_has_both_its_render_module_and_its_templates(tmp_path: Path) -> None:
    assert not paths.is_tool(tmp_path)
    (tmp_path / "templates").mkdir()
    assert not paths.is_tool(tmp_path)  # templates alone: a project's own folder of that name
    (tmp_path / "tasks" / "store" / "paths.py").mkdir(parents=True)
    assert not paths.is_tool(tmp_path)  # not a file
    (tmp_path / "tasks" / "store" / "paths.py").rmdir()
    touch(tmp_path, "tasks/store/paths.py")
    assert paths.is_tool(tmp_path)
    (tmp_path / "templates").rmdir()
    assert not paths.is_tool(tmp_path)


def test_another_project_uses_the_tools_templates_and_files(here: Path) -> None:
    assert paths.root() == here
    assert paths.templates() == paths.TOOL / "templates"
    sources = paths.code_files(config)
    assert (paths.TOOL / "tasks/config/load.py").as_posix() in sources
    assert (paths.TOOL / "tasks/config/yamlpos.py").as_posix() in sources  # imported by it
    assert (paths.TOOL / "tasks/render/writer.py").as_posix() not in sources  # a layer above: never imported
    assert sources == sorted(sources) and all(Path(s).is_file() for s in sources)
    files = paths.template_files()
    assert files == sorted(files) and files
    assert all(Path(f).is_absolute() and Path(f).is_file() for f in files)
    assert all(Path(f).is_relative_to(paths.TOOL / "templates") for f in files)
    modules = paths.tool_modules()
    assert modules == sorted(modules) and modules
    assert all(
        Path(f).is_file() and Path(f).is_relative_to(paths.TOOL / "terraform/modules") for f in modules
    )


def test_a_tool_checkout_uses_its_own_templates_by_relative_path(here: Path) -> None:
    touch(here, "tasks/store/paths.py", "templates/b/two.j2", "templates/a.j2", "templates/.a.j2.x1.tmp")
    assert paths.templates() == here / "templates"
    assert "tasks/config/load.py" in paths.code_files(config)
    assert "tasks/config/schema.py" in paths.code_files(config)
    assert paths.template_files() == ["templates/a.j2", "templates/b/two.j2"]


def test_files_under_skips_folders_and_temp_files(here: Path) -> None:
    touch(here, "k8s/z.yaml", "k8s/base/a.yaml", "k8s/.a.yaml.tmp", "compose/c.yml", "other/o")
    (here / "k8s" / "empty").mkdir()
    assert paths.files_under("k8s", "compose") == ["compose/c.yml", "k8s/base/a.yaml", "k8s/z.yaml"]


def test_listed_walks_each_folder_once_per_run(here: Path) -> None:
    paths.forget_listings()
    touch(here, "k8s/z.yaml", "compose/c.yml")
    assert paths.listed("k8s", "compose") == ["compose/c.yml", "k8s/z.yaml"]
    touch(here, "k8s/base/a.yaml")  # task creators never write: within a run, the first walk stands
    assert paths.listed("k8s") == ["k8s/z.yaml"]
    paths.forget_listings()  # the next run walks again
    assert paths.listed("compose", "k8s") == ["compose/c.yml", "k8s/base/a.yaml", "k8s/z.yaml"]


def test_tf_files_are_terraform_sources_only(here: Path) -> None:
    touch(
        here,
        "tf/main.tf",
        "tf/dev.tfvars",
        "tf/.terraform.lock.hcl",
        "tf/a/backend.hcl",
        "tf/README.md",
        "tf/.terraform/modules/x/main.tf",
        "other/main.tf",
    )
    (here / "tf" / "folder.tf").mkdir()
    assert paths.tf_files(Path("tf")) == [
        "tf/.terraform.lock.hcl",
        "tf/a/backend.hcl",
        "tf/dev.tfvars",
        "tf/main.tf",
    ]


def test_dockerfiles_are_found_everywhere_but_in_state_and_environments(here: Path) -> None:
    touch(
        here,
        "Dockerfile",
        "docker/redis/Dockerfile",
        "demo/docker/Dockerfile.service",
        "demo/notes.Dockerfile",
        ".build/x/Dockerfile",
        ".git/Dockerfile",
        "node_modules/p/Dockerfile",
        "__pycache__/Dockerfile",
        ".venv-3/Dockerfile",
        "env/pyvenv.cfg",
        "env/Dockerfile",
    )
    assert paths.dockerfiles() == ["Dockerfile", "demo/docker/Dockerfile.service", "docker/redis/Dockerfile"]


def test_code_files_follow_imports_to_modules_and_packages_never_to_imported_names() -> None:
    from tasks.families import render as render_family

    sources = set(paths.code_files(render_family))
    # `from tasks.render import plan`: the package and the module; `import ... creator`: a
    # function, so no file; a module imported only inside a function counts too.
    assert {"tasks/render/__init__.py", "tasks/render/plan.py", "tasks/families/shared/registry.py"} <= {
        Path(s).relative_to(paths.TOOL).as_posix() if Path(s).is_absolute() else s for s in sources
    }
    assert all((paths.TOOL / s).is_file() for s in sources)
    assert not any(s.endswith(("/creator.py", "/Scope.py")) for s in sources)


def test_a_build_names_a_tool_folder_only_as_docker_slash_one_of_its_build_folders() -> None:
    folders = paths.tool_build_folders()
    assert folders and folders == sorted(folders)
    assert all((paths.TOOL / "docker" / name / "Dockerfile").is_file() for name in folders)
    name = folders[0]
    assert paths.tool_build_folder(f"docker/{name}") == name
    assert paths.tool_build_folder(f" docker/{name}\n") == name
    for rel in (f"docker/{name}/Dockerfile", "docker", f"build/{name}", name, "docker/no-such-folder"):
        assert paths.tool_build_folder(rel) is None, rel


def test_only_folders_with_a_dockerfile_are_build_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paths, "TOOL", tmp_path)  # a tool checkout of our making
    assert paths.tool_build_folders() == []  # no docker/ at all
    for name in ("b", "a", "notes"):
        (tmp_path / "docker" / name).mkdir(parents=True)
    (tmp_path / "docker" / "b" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "docker" / "a" / "Dockerfile").write_text("FROM scratch\n")
    assert paths.tool_build_folders() == ["a", "b"]


def test_code_files_follow_only_the_tools_own_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A module of another project that imports the tool's modules beside others, and names a
    # function of a package (no file).
    probe = tmp_path / "importer_of_the_tool.py"
    probe.write_text(
        "import json, tasks.errors\n"
        "from tasks import model; from email import message\n"
        "from tasks.families import load\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)  # not the tool's checkout: the paths are absolute
    module = ModuleType("importer_of_the_tool")
    sources = {Path(s) for s in paths.code_files(module)}
    tool = paths.TOOL / "tasks"
    assert {probe.resolve(), tool / "errors.py", tool / "model.py", tool / "families/__init__.py"} <= sources
    assert [s for s in sources if s != probe.resolve() and not s.is_relative_to(tool)] == []


def _probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> tuple[Path, ModuleType]:
    probe = tmp_path / "src" / "probe_of_the_closure.py"
    probe.parent.mkdir(exist_ok=True)
    probe.write_text(text)
    monkeypatch.syspath_prepend(str(probe.parent))
    monkeypatch.chdir(tmp_path)
    return probe, ModuleType("probe_of_the_closure")


def test_code_files_follow_an_import_added_to_a_file_they_already_walked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe, module = _probe(tmp_path, monkeypatch, "import tasks.errors\n")
    tool = paths.TOOL / "tasks"
    first = {Path(s) for s in paths.code_files(module)}
    assert tool / "errors.py" in first and tool / "model.py" not in first
    assert (tmp_path / ".build" / "state" / "code-closure.json").is_file()  # remembered for the next run
    probe.write_text("import tasks.errors\nimport tasks.model\n")  # one more line: another stamp
    assert tool / "model.py" in {Path(s) for s in paths.code_files(module)}


def test_code_files_are_the_same_from_a_new_process_and_from_a_broken_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _probe(tmp_path, monkeypatch, "import tasks.errors\nfrom tasks.store import state\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "src"), str(paths.TOOL)])}
    ask = [
        sys.executable,
        "-c",
        "import types; from tasks.store import paths; "
        "print(*paths.code_files(types.ModuleType('probe_of_the_closure')), sep='\\n')",
    ]

    def files() -> list[str]:
        out = subprocess.run(ask, cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
        return out.stdout.split()

    walked = files()
    assert str(paths.TOOL / "tasks/store/state.py") in walked
    assert files() == walked  # from the record
    record = tmp_path / ".build" / "state" / "code-closure.json"
    record.write_text("{not json")
    assert files() == walked
    broken = {"x": 1, f"probe_of_the_closure:{tmp_path / 'src' / 'probe_of_the_closure.py'}": {"files": 3}}
    record.write_text(json.dumps(broken))
    assert files() == walked


def test_code_files_work_where_nothing_can_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _probe(tmp_path, monkeypatch, "import tasks.defaults\n")
    (tmp_path / ".build").write_text("a file where the folder would be")
    assert str(paths.TOOL / "tasks/defaults.py") in paths.code_files(ModuleType("probe_of_the_closure"))
