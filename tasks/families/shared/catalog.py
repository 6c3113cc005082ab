"""Every public task, in one table: which environment(s) it needs and which options it takes.

The run is resolved from this table before any task is built (tasks/cli/run.py): it
decides the environment, which configuration files must be valid, refuses a
mutating cloud command that does not name exactly one environment, and checks
task names and `key=value` options with a "did you mean". Task creators declare the
same options as doit `params` (so `doit help <task>` lists them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Scope(Enum):
    NONE = "none"  # reads no environment file
    ALL = "all"  # every environment (render, validate, ...)
    SELECTED = "selected"  # the run's environment: env=<name>, else the family's default
    NAMED = "named"  # one environment per subtask, named in the task: deploy:dev


@dataclass(frozen=True)
class Option:
    name: str
    kind: type  # bool, int or str
    default: bool | int | str
    help: str


@dataclass(frozen=True)
class Entry:
    scope: Scope
    default_env: str = "local"
    # Changes a cloud environment: must name exactly one, and a protected one needs confirm=<env>.
    mutating: bool = False
    options: tuple[Option, ...] = field(default_factory=tuple)


MINIKUBE_ENV = "minikube"
WIPE = Option("wipe", bool, False, "also delete the data volumes")
FIX = Option("fix", bool, False, "rewrite the files instead of checking them")
TAIL = Option("tail", int, 50, "how many log lines per pod")
KEEP = Option("keep", int, 3, "content tags to keep per image repository")
SERVICE = Option("service", str, "", "the service to forward (default: the first with a published port)")

_SELECTED = Entry(Scope.SELECTED)
_MINIKUBE = Entry(Scope.SELECTED, default_env=MINIKUBE_ENV)
_READ = Entry(Scope.NAMED)
_MUTATE = Entry(Scope.NAMED, mutating=True)

TASKS: dict[str, Entry] = {
    # render and check
    "render": Entry(Scope.ALL),
    "validate": Entry(Scope.ALL),
    "tf_fmt": Entry(Scope.NONE, options=(FIX,)),
    "tf_validate": Entry(Scope.ALL),
    "checkov": Entry(Scope.ALL),
    # images
    "images": _SELECTED,
    "builder_image": _SELECTED,
    "base_image": _SELECTED,
    "images_prune": Entry(Scope.SELECTED, options=(KEEP,)),
    "doctor": _SELECTED,
    # compose (phase 1)
    "compose_up": _SELECTED,
    "compose_up_dbs": _SELECTED,
    "compose_up_services": _SELECTED,
    "compose_jobs": _SELECTED,
    "compose_down": Entry(Scope.SELECTED, options=(WIPE,)),
    "compose_ps": _SELECTED,
    "compose_logs": _SELECTED,
    "compose_config": _SELECTED,
    "s_a_dbs_s": _SELECTED,
    "s_a_dbs": _SELECTED,
    "s_a_s": _SELECTED,
    # minikube (phase 2)
    "minikube_up": _MINIKUBE,
    "minikube_start": _MINIKUBE,
    "minikube_images": _MINIKUBE,
    "minikube_load": _MINIKUBE,
    "minikube_apply": _MINIKUBE,
    "minikube_rollout": _MINIKUBE,
    "minikube_status": _MINIKUBE,
    "minikube_logs": Entry(Scope.SELECTED, default_env=MINIKUBE_ENV, options=(TAIL,)),
    "minikube_down": _MINIKUBE,
    "minikube_delete": _MINIKUBE,
    "k8s_minikube": _MINIKUBE,
    "port_forward": Entry(Scope.SELECTED, default_env=MINIKUBE_ENV, options=(SERVICE,)),
    # cloud (phase 3): the environment is the subtask name
    "tf_plan": _READ,
    "smoke": _READ,
    "deploy_restored": _READ,
    "release_export": _READ,
    "tf_apply": _MUTATE,
    "push": _MUTATE,
    "deploy": _MUTATE,
    "rollback": _MUTATE,
    "kubeconfig": _MUTATE,
    "registry_login": _MUTATE,
}

# Words that are `key=value` run variables rather than task options.
RUN_VARS = {
    "env": "the environment (default: local; minikube for the Minikube family)",
    "confirm": "repeat a protected environment's name to change it outside CI",
}


def options() -> dict[str, Option]:
    """Every option name any task takes (for `key=value` words and "did you mean")."""
    return {opt.name: opt for entry in TASKS.values() for opt in entry.options}


def params(basename: str, given: dict[str, str]) -> list[dict[str, object]]:
    """doit `params` for a task: `--wipe` works, and so does the older `wipe=1`."""
    out: list[dict[str, object]] = []
    for opt in TASKS[basename].options:
        default = parse(opt, given[opt.name]) if opt.name in given else opt.default
        out.append(
            {
                "name": opt.name,
                "long": opt.name,
                "type": opt.kind,
                "default": default,
                "help": f"{opt.help} (default: {opt.default!r}; also `{opt.name}=...`)",
            }
        )
    return out


TRUE = ("1", "true", "yes", "on")
FALSE = ("", "0", "false", "no", "off")


def parse(opt: Option, text: str) -> bool | int | str:
    """Parse a `key=value` word; raise ValueError with the accepted forms."""
    if opt.kind is bool:
        if text.lower() in TRUE:
            return True
        if text.lower() in FALSE:
            return False
        raise ValueError(f"use one of {', '.join(TRUE[:2])} or {', '.join(FALSE[1:3])}")
    if opt.kind is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError("use a whole number") from None
    return text
