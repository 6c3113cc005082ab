"""Where things live. doit runs every task creator and action in the project root."""
from __future__ import annotations

import sys
from pathlib import Path

from doit import get_var

# All state that is not source: doit's databases, image IDs, deploy-time files, logs.
# Git-ignored; deleting it is always safe.
BUILD = Path(".build")
# The code rendering depends on: a change here re-renders, a change elsewhere does not.
PY_SOURCES = [f"tasks/{name}.py" for name in
              ("config", "errors", "model", "render", "render_tasks", "schema", "yamlpos")]


def root() -> Path:
    return Path.cwd()


def files_under(*folders: str) -> list[str]:
    """Every file below the folders, as sorted relative paths (a folder can't be a file_dep)."""
    out: list[str] = []
    for folder in folders:
        out += [p.as_posix() for p in Path(folder).rglob("*") if p.is_file()]
    return sorted(out)


# Task families whose natural environment is not `local`.
FAMILY_DEFAULTS = {"minikube": "minikube", "k8s_minikube": "minikube", "port_forward": "minikube"}


def selected_env() -> str:
    """The environment of this run: `env=<name>`, else the requested tasks' family default.

    One answer for every task module, so `doit minikube_up` starts the minikube
    environment's host databases, not the local ones.
    """
    given = get_var("env")
    if given:
        return str(given)
    for arg in sys.argv[1:]:
        for prefix, env in FAMILY_DEFAULTS.items():
            if arg.startswith(prefix):
                return env
    return "local"
