"""Where source things live. doit runs every task creator and action in the project root.

The project is the folder doit runs in (it holds environments/). It is often not the
tool's own folder: examples/guestbook, or a team's repository, has no templates/ and no
tasks/ of its own. Those belong to the tool and are found beside the installed `tasks`
package (an editable install: `pip install -e <stackbuild checkout>`), unless the project
is a checkout of the tool itself (or a test's copy of one), which renders its own.

Build state (`.build/`) is not here: tasks/store/state.py names every state file.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import json
import os
import re
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

from tasks.store.state import code_closure_file, is_temp, write_atomic

__all__ = [
    "TERRAFORM",
    "TOOL",
    "code_files",
    "dockerfiles",
    "files_under",
    "forget_listings",
    "listed",
    "is_tool",
    "root",
    "template_files",
    "templates",
    "tf_files",
    "tool_build_folder",
    "tool_build_folders",
    "tool_modules",
]

# The folder holding the `tasks` package and the tool's templates/.
TOOL = Path(__file__).resolve().parents[2]
# This file, relative to the tool: a project that holds it carries its own copy of the tool.
_MARKER = Path(__file__).resolve().relative_to(TOOL)
_PACKAGE = __name__.partition(".")[0]

TERRAFORM = Path("terraform")


def root() -> Path:
    return Path.cwd()


def is_tool(project: Path) -> bool:
    """The project is a checkout (or copy) of the tool: it carries its own tasks and templates."""
    return (project / _MARKER).is_file() and (project / "templates").is_dir()


def templates(project: Path | None = None) -> Path:
    """The templates a project renders through (absolute)."""
    project = Path.cwd() if project is None else project
    return (project / "templates") if is_tool(project) else TOOL / "templates"


def code_files(*modules: ModuleType) -> list[str]:
    """The source files of these modules and of every module of the tool they import, at any
    depth, as doit file_deps: relative in the tool's own checkout (the keys its doit
    databases always had), absolute from any other project.

    Derived from the code itself (each file's import statements), never from a list of
    names, so a module that moves or is split keeps its dependents stale when it changes."""
    found: set[Path] = set()
    for module in modules:
        found |= _closure(module.__name__)
    here = is_tool(Path.cwd())
    return sorted(p.relative_to(TOOL).as_posix() if here else p.as_posix() for p in found)


def _closure(name: str) -> frozenset[Path]:
    """The files of module `name` and of every module of the tool it imports.

    Remembered with the stat of each of those files and of their folders (in this process and
    in `.build/state/code-closure.json`, for the next run): the walk reads and parses every
    file, about a tenth of a `doit list`. An edited file changes its own stamp; a module added
    beside them (which an unchanged `from tasks.x import y` may now name) changes its folder's."""
    root = _origin(name)
    key = f"{name}:{root}"  # the file the name stands for here: a copy of the tool has its own
    known = _remembered().get(key)
    stamp = _stamp(known.get("files")) if isinstance(known, dict) else None
    if stamp is not None and known is not None and known.get("stamp") == stamp:
        return frozenset(Path(f) for f in known["files"])
    found = _walk(name)
    files = sorted(str(p) for p in found)
    _remembered()[key] = {"files": files, "stamp": _stamp(files)}
    with contextlib.suppress(OSError):  # a read-only checkout only walks again next time
        write_atomic(code_closure_file(), json.dumps(_remembered(), sort_keys=True))
    return found


_REMEMBERED: dict[str, Any] = {}


def _remembered() -> dict[str, Any]:
    if not _REMEMBERED:
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(code_closure_file().read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                _REMEMBERED.update(loaded)
        _REMEMBERED.setdefault("", {})  # read once per process, even when there was nothing
    return _REMEMBERED


def _stamp(files: Any) -> list[list[Any]] | None:
    out: list[list[Any]] = []
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None  # a record this code did not write
    try:
        for path in [*files, *sorted({str(Path(f).parent) for f in files})]:
            st = Path(path).stat()
            out.append([path, st.st_mtime_ns, st.st_size])
    except OSError:
        return None  # gone: walk again
    return out


def _walk(name: str) -> frozenset[Path]:
    seen: dict[str, Path] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        origin = _origin(current)
        if origin is None:
            continue
        seen[current] = origin
        todo += _imports(origin)
    return frozenset(seen.values())


def _origin(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return Path(spec.origin).resolve() if spec is not None and spec.origin else None


# An import statement naming the package, at any indentation (imports inside functions count),
# with its parenthesised or backslash-continued tail: only these are parsed. Parsing every file
# whole took most of a `doit list` (task creation asks for these closures on every run).
_IMPORT = re.compile(
    rf"^[ \t]*(?:from[ \t]+{_PACKAGE}\b[\w.]*[ \t]+import[ \t]*(?:\([^)]*\)|(?:[^\n]*\\\n)*[^\n]*)"
    rf"|import[ \t]+(?:[^\n]*\\\n)*[^\n]*\b{_PACKAGE}\b[^\n]*)",
    re.MULTILINE,
)


def _imports(origin: Path) -> list[str]:
    """The names of the tool's modules one file may import: `from tasks.x import y` imports
    tasks.x, and tasks.x.y too when y is a module (a name that is not has no origin).

    An import-like line inside a string counts too: a file_dep too many, never one missing."""
    out: list[str] = []
    for match in _IMPORT.finditer(origin.read_text(encoding="utf-8")):
        try:
            tree = ast.parse(textwrap.dedent(match.group(0)))
        except SyntaxError:  # a line in a docstring that only looks like an import
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                out += [a.name for a in node.names if a.name.split(".")[0] == _PACKAGE]
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == _PACKAGE:
                out += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
    return out


def template_files() -> list[str]:
    """Every template file, as file_dep paths (relative in the tool's checkout)."""
    if is_tool(Path.cwd()):
        return files_under("templates")
    folder = TOOL / "templates"
    return sorted(p.as_posix() for p in folder.rglob("*") if p.is_file() and not is_temp(p))


def tool_modules() -> list[str]:
    """Every file of the tool's terraform/modules (absolute): what another project's copies
    are made from (tasks/render/files.py `module_copies`)."""
    folder = TOOL / "terraform" / "modules"
    return sorted(p.as_posix() for p in folder.rglob("*") if p.is_file() and not is_temp(p))


DOCKER = "docker"


def tool_build_folders() -> list[str]:
    """The names of the tool's generic database build folders (docker/<name>/ with a
    Dockerfile): what another project's managed copies are made from."""
    folder = TOOL / DOCKER
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / "Dockerfile").is_file())


def tool_build_folder(rel: str) -> str | None:
    """The tool folder's name when a database's `build:` names one (`docker/redis`), else None."""
    parts = Path(rel.strip()).parts
    if len(parts) == 2 and parts[0] == DOCKER and parts[1] in tool_build_folders():
        return parts[1]
    return None


def files_under(*folders: str) -> list[str]:
    """Every file below the folders, as sorted relative paths (a folder can't be a file_dep).

    In-flight temp files of a concurrent run (tasks/state.write_atomic) are not inputs.
    """
    out: list[str] = []
    for folder in folders:
        out += [p.as_posix() for p in Path(folder).rglob("*") if p.is_file() and not is_temp(p)]
    return sorted(out)


_LISTED: dict[str, list[str]] = {}


def listed(*folders: str) -> list[str]:
    """files_under, each folder walked once per run: task creators list the same folders again
    and again (k8s/base for every environment's validate, a build context shared by every
    service and by two daemons), which at 300 services was most of `doit list`. Nothing
    writes those folders while tasks are created; each run starts with `forget_listings()`
    (tasks/cli/start.py), so an action, which runs later, must call files_under instead."""
    out: list[str] = []
    for folder in folders:
        if folder not in _LISTED:
            _LISTED[folder] = files_under(folder)
        out += _LISTED[folder]
    return sorted(out)


def forget_listings() -> None:
    """Walk the folders again on the next `listed` (a new run; one process may run doit twice)."""
    _LISTED.clear()


def tf_files(*folders: Path) -> list[str]:
    """Terraform sources below the folders (.tf, .tfvars, .hcl), never Terraform's own working data."""
    out: list[str] = []
    for folder in folders:
        for path in folder.rglob("*"):
            if (
                path.is_file()
                and path.suffix in (".tf", ".tfvars", ".hcl")
                and ".terraform" not in path.parts
            ):
                out.append(path.as_posix())
    return sorted(out)


def dockerfiles() -> list[str]:
    """Every Dockerfile of the project (docker/, demo/, ...), never in build state or venvs.

    Walked with pruning: task creation runs on every doit call, and .venv alone holds
    tens of thousands of files."""
    skip = {".build", ".git", "node_modules", "__pycache__"}
    found = []
    for folder, dirs, files in os.walk("."):
        dirs[:] = [
            d
            for d in dirs
            if d not in skip and not d.startswith(".venv") and not (Path(folder) / d / "pyvenv.cfg").exists()
        ]
        found += [
            (Path(folder) / f).as_posix().removeprefix("./") for f in files if f.startswith("Dockerfile")
        ]
    return sorted(found)
