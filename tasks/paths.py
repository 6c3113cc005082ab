"""Where source things live. doit runs every task creator and action in the project root.

The project is the folder doit runs in (it holds environments/). It is often not the
tool's own folder: examples/guestbook, or a team's repository, has no templates/ and no
tasks/ of its own. Those belong to the tool and are found beside the installed `tasks`
package (an editable install: `pip install -e <stackbuild checkout>`), unless the project
is a checkout of the tool itself (or a test's copy of one), which renders its own.

Build state (`.build/`) is not here: tasks/state.py names every state file.
"""

from __future__ import annotations

import os
from pathlib import Path

from tasks.state import is_temp

__all__ = [
    "TERRAFORM",
    "TOOL",
    "dockerfiles",
    "files_under",
    "is_tool",
    "py_sources",
    "root",
    "template_files",
    "templates",
    "tf_files",
    "tool_file",
    "tool_modules",
]

# The folder holding the `tasks` package and the tool's templates/.
TOOL = Path(__file__).resolve().parent.parent

TERRAFORM = Path("terraform")

# The code rendering depends on: a change here re-renders, a change elsewhere does not.
_RENDER_SOURCES = (
    "cloud_db",
    "config",
    "errors",
    "healthcheck",
    "images",
    "model",
    "render",
    "render_tasks",
    "schema",
    "state",
    "yamlpos",
)


def root() -> Path:
    return Path.cwd()


def is_tool(project: Path) -> bool:
    """The project is a checkout (or copy) of the tool: it carries its own tasks and templates."""
    return (project / "tasks" / "render.py").is_file() and (project / "templates").is_dir()


def templates(project: Path | None = None) -> Path:
    """The templates a project renders through (absolute)."""
    project = Path.cwd() if project is None else project
    return (project / "templates") if is_tool(project) else TOOL / "templates"


def tool_file(rel: str) -> str:
    """A file of the tool as a doit file_dep: relative in the tool's own checkout (the keys
    its doit databases always had), absolute from any other project."""
    return rel if is_tool(Path.cwd()) else (TOOL / rel).as_posix()


def py_sources() -> list[str]:
    return [tool_file(f"tasks/{name}.py") for name in _RENDER_SOURCES]


def template_files() -> list[str]:
    """Every template file, as file_dep paths (relative in the tool's checkout)."""
    if is_tool(Path.cwd()):
        return files_under("templates")
    folder = TOOL / "templates"
    return sorted(p.as_posix() for p in folder.rglob("*") if p.is_file() and not is_temp(p))


def tool_modules() -> list[str]:
    """Every file of the tool's terraform/modules (absolute): what another project's copies
    are made from (tasks/render.py `module_copies`)."""
    folder = TOOL / "terraform" / "modules"
    return sorted(p.as_posix() for p in folder.rglob("*") if p.is_file() and not is_temp(p))


def files_under(*folders: str) -> list[str]:
    """Every file below the folders, as sorted relative paths (a folder can't be a file_dep).

    In-flight temp files of a concurrent run (tasks/state.write_atomic) are not inputs.
    """
    out: list[str] = []
    for folder in folders:
        out += [p.as_posix() for p in Path(folder).rglob("*") if p.is_file() and not is_temp(p)]
    return sorted(out)


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
