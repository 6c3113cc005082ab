"""doit tasks: render environments/ through templates/ into k8s/, compose/, terraform/."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from tasks import config, placement, render
from tasks.errors import StackError, user_errors
from tasks.model import Config
from tasks.paths import PY_SOURCES, files_under, root

STACK = f"{config.ENV_DIR}/{config.STACK_FILE}"


def _env_path(env: str) -> str:
    return f"{config.ENV_DIR}/{env}.yaml"


@user_errors
def _check_all() -> None:
    """Load every environment: one bad file stops the run before anything is written."""
    for env in [None, *config.environments(root())]:
        config.load(env, root())


@user_errors
def _write(produce: Callable[[], render.Outputs], prune: tuple[str, ...] = ()) -> None:
    outputs = render.texts(produce())  # everything renders in memory first: all or nothing
    for path in render.write_all(outputs, root(), prune=prune):
        print(f"  wrote {path}")


def _targets(produce: Callable[[], render.Outputs]) -> list[str]:
    try:
        return sorted(produce())
    except StackError:  # reported by render:config, without failing `doit list`
        return []


def _task(name: str, doc: str, produce: Callable[[], render.Outputs], deps: list[str],
          templates: str, prune: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "name": name,
        "doc": doc,
        "actions": [(_write, [produce, prune])],
        "file_dep": sorted({*deps, *files_under(f"templates/{templates}"), *PY_SOURCES}),
        "targets": _targets(produce),
        "task_dep": ["render:config"],
        "clean": True,
    }


def task_render() -> Iterator[dict[str, Any]]:
    """Render Compose files, Kustomize base/overlays and Terraform inputs from environments/."""
    envs = config.environments(root())

    def stack() -> Config:
        return config.load(None, root())

    yield {
        "name": "config",
        "doc": "Validate every environment file (nothing is written if one is wrong).",
        "actions": [_check_all],
        "file_dep": [STACK, *map(_env_path, envs), *PY_SOURCES],
    }
    yield _task("k8s-base", "Kustomize base: one file per workload.",
                _k8s_base, [STACK], "k8s/base", ("k8s/base",))
    yield _task("k8s-components", "Kustomize components (ingress, hpa).",
                _k8s_components, [STACK], "k8s/components", ("k8s/components",))
    for env in envs:
        runtime = _runtime(env)
        deps = [STACK, _env_path(env)]
        yield _task(f"compose-{env}", f"Compose files for {env}.",
                    partial(_compose, env), deps, "compose", (f"compose/{env}",))
        if runtime.get("kubernetes"):
            yield _task(f"k8s-{env}", f"Kustomize overlay for {env}.",
                        partial(_overlay, env), deps, "k8s/overlay", (f"k8s/overlays/{env}",))
        if runtime.get("cloud"):
            yield _task(f"terraform-{env}", f"Terraform inputs for {env}.",
                        partial(_terraform, env), deps, "terraform")
    yield _task("docs-placement", "docs/placement.md: where each database runs, per environment.",
                partial(_placement, envs), [STACK, *map(_env_path, envs), "tasks/placement.py"], "docs")


# Producers: each loads its configuration when called, so a task built at load time
# still renders from the files as they are when it runs.
def _k8s_base() -> render.Outputs:
    return render.k8s_base(config.load(None, root()))


def _k8s_components() -> render.Outputs:
    return render.k8s_components(config.load(None, root()))


def _compose(env: str) -> render.Outputs:
    return render.compose(config.load(env, root()))


def _overlay(env: str) -> render.Outputs:
    return render.k8s_overlay(config.load(env, root()), config.load(None, root()))


def _terraform(env: str) -> render.Outputs:
    return render.terraform(config.load(env, root()))


def _placement(envs: list[str]) -> render.Outputs:
    return {placement.PATH: partial(_placement_text, envs)}


def _placement_text(envs: list[str]) -> str:
    return placement.markdown([config.load(env, root()) for env in envs])


def _runtime(env: str) -> dict[str, bool]:
    """Which artifacts an environment gets; a broken file falls back to none (render:config reports it)."""
    try:
        cfg = config.load(env, root())
    except StackError:
        return {}
    return {"kubernetes": cfg.runtime == "kubernetes", "cloud": cfg.cloud is not None}
