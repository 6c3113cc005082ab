"""doit tasks: `doit doctor` (the whole table) and the hidden preflights before long steps.

The preflights (`_preflight:images`, `_preflight:compose`, `_preflight:docker`) are
task_deps of the image builds, the Compose up steps and images_prune: they run the few
checks that step needs (well under a second) and stop the run with one sentence and its
fix before debootstrap, a build or `compose up` starts.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import partial
from typing import Any

from doit.exceptions import TaskFailed

from tasks.errors import StackError
from tasks.families.shared.registry import Scope, Task, creator
from tasks.families.shared.run import Run
from tasks.model import Config
from tasks.ops import docker_images, doctor
from tasks.ops.live import Facts
from tasks.output import console, term
from tasks.store import images


def sentence(check: doctor.Check) -> str:
    """One line: what is missing and the fix (the daemon's sentence already is both)."""
    if check.key == "docker" and check.found in ("daemon not reachable", "permission denied"):
        return check.fix  # already one sentence with its fix
    if check.key == "ports":
        return f"Host ports {check.found}: {check.fix}."
    return f"{check.label} is missing here ({check.found}): {check.fix.rstrip('.')}."


def daemon_answers() -> doctor.Check:
    """Docker for a preflight: the image listing every image's up-to-date check reads next
    (kept for the run by docker_images) answers "is the daemon there?" as well."""
    return doctor.docker_by(partial(docker_images.present, {}))


# The cheapest check that still tells the truth, by key; the others are doctor.CHECKS.
PREFLIGHT = {**doctor.PREFLIGHT, "docker": daemon_answers}


def preflight(keys: tuple[str, ...], checked: Facts | None = None) -> TaskFailed | None:
    """The first of these checks that fails, as one sentence. `checked`: the run's answers,
    so a check several preflights ask for (docker, before images and before compose) runs once."""
    answers = Facts() if checked is None else checked
    for key in keys:
        check = answers.ask(key, PREFLIGHT.get(key, doctor.CHECKS[key]))
        if not check.ok:
            return TaskFailed(sentence(check))
    return None


def base_built(cfg: Config) -> bool:
    """An offline base the daemon still has is kept (image_tasks.make_base): no debootstrap."""
    base = images.state_dir(cfg.env) / "base"
    return docker_images.is_current(base.with_suffix(".iid"), base.with_suffix(".ref"), {})


def images_needs(cfg: Config | StackError) -> tuple[str, ...]:
    """Docker always; for an offline base that must still be made, debootstrap and root."""
    if not isinstance(cfg, Config) or cfg.images.base != "debootstrap" or base_built(cfg):
        return ("docker",)
    return ("docker", "debootstrap")


def preflight_images(cfg: Config | StackError, checked: Facts | None = None) -> TaskFailed | None:
    # Docker first: whether the base is built can only be asked of a running daemon.
    return preflight(("docker",), checked) or preflight(images_needs(cfg), checked)


@creator()
def task__preflight(run: Run) -> Iterator[dict[str, Any]]:
    """Cheap checks before long steps (hidden; `doit doctor` shows them all)."""
    cfg = run.try_config(run.env_for("images"))
    checked = Facts()  # one answer per check per run, whichever preflights ask for it
    yield {
        "name": "images",
        "doc": "Preflight before image builds: docker (debootstrap, root: offline base).",
        "actions": [(preflight_images, [cfg, checked])],
        "uptodate": [False],
    }
    for name, keys in (("compose", ("docker", "compose")), ("docker", ("docker",))):
        yield {
            "name": name,
            "doc": f"Preflight before {name} steps: {', '.join(keys)}.",
            "actions": [(preflight, [keys, checked])],
            "uptodate": [False],
        }


def run_doctor(cfg: Config | StackError) -> TaskFailed | None:
    checks = [make() for make in doctor.CHECKS.values()]
    selected: list[str] = []
    if isinstance(cfg, Config):
        checks.append(doctor.ports(cfg, own_ports=partial(doctor.own_stack_ports, cfg)))
        if cfg.images.platforms:
            checks.append(doctor.emulation(cfg))
        selected = doctor.workflows_of(cfg)
    paint = term.painter(sys.stdout)
    console.show(doctor.table(checks, selected, paint=paint))
    if isinstance(cfg, StackError):
        return TaskFailed(cfg.render())
    needed = {key for workflow in selected for key in doctor.NEEDS[workflow]}
    env = cfg.env
    console.show(f"\n(* = used by environment {env}: {', '.join(selected)})")
    if "offline" in selected and "debootstrap" not in images_needs(cfg):
        needed.discard("debootstrap")
        console.show("(debootstrap and root are not needed now: the offline base image is built and kept)")
    if cfg.images.platforms and cfg.cloud is not None:
        needed.add("emulation")  # images:platforms stops a cloud environment that cannot build one
    elif cfg.images.platforms:
        console.show("(without emulation a local environment builds the host's platform only)")
    gaps = doctor.missing(checks, needed)
    if gaps:
        return TaskFailed(
            f"environment {env} cannot run here yet:\n" + "\n".join(f"  - {sentence(c)}" for c in gaps)
        )
    console.show(paint(f"environment {env}: everything it needs is here", "green"))
    return None


@creator(Task("doctor", Scope.SELECTED, tolerant=True))
def task_doctor(run: Run) -> dict[str, Any]:
    """What this machine has and what each workflow needs; fails only on what env=<name> needs."""
    return {
        "actions": [(run_doctor, [run.try_config(run.env_for("doctor"))])],
        "uptodate": [False],
        "verbosity": 2,
    }
