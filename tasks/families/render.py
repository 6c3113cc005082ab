"""doit tasks: render environments/ through templates/ into k8s/, compose/, terraform/.

All or nothing: whichever render subtask runs first renders and parses the output of
every environment whose file loads (about 0.1 s), once per run; each subtask then writes
only its own files. So a template error stops every subtask before the first write,
while one broken environment file only stops the subtasks that read it.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from tasks.config import load as config
from tasks.errors import StackError
from tasks.families.shared.creators import failing, user_errors
from tasks.families.shared.registry import Scope, Task, creator
from tasks.families.shared.run import Run
from tasks.model import Config
from tasks.output import console
from tasks.render import build_copies, owned, placement, plan, writer
from tasks.render.plan import Produce
from tasks.store import paths

STACK = f"{config.ENV_DIR}/{config.STACK_FILE}"


def _env_path(env: str) -> str:
    return f"{config.ENV_DIR}/{env}.yaml"


def check_all(root: Path) -> None:
    """Load every environment: a bad file stops `doit render` before anything is written."""
    errors = []
    for env in [None, *config.environments(root)]:
        try:
            config.load_stack(root) if env is None else config.load(env, root)
        except StackError as exc:
            errors.append(exc.render())
    if errors:
        raise StackError("\n".join(dict.fromkeys(errors)))


def write(produce: Produce, prune: tuple[str, ...], root: Path) -> None:
    """Write this subtask's files, from the run's all-environments render."""
    mine = produce(root)  # raises this subtask's own configuration error, if any
    everything = plan.rendered(root)
    outputs = {path: everything[path] for path in mine}
    if produce is plan.terraform_modules:  # copies carry no header: the README says which they are
        listed = owned.listed_copies(root)  # read before this render rewrites it
        owned.refuse_foreign_copies(outputs, root, listed)
        changed = writer.write_all(outputs, root) + writer.prune_copies(outputs, root, listed)
    elif produce is plan.docker_builds:
        listed = build_copies.managed(root)  # before the README changes
        changed = writer.write_all(outputs, root, prune=prune)
        changed += writer.prune_build_copies(outputs, root, listed)
        writer.sync_modes(outputs, root)
    else:
        changed = writer.write_all(outputs, root, prune=prune)
    _say(root, changed)


def _say(root: Path, changed: list[str]) -> None:
    for path in changed:
        console.step(f"{'wrote' if (root / path).exists() else 'removed'} {path}")


def prune(root: Path) -> None:
    """Remove what render made that no environment makes any more: the outputs of a deleted
    environment, an overlay whose environment no longer runs Kubernetes, a root whose
    environment lost its `cloud:` block. Files render did not make stay, and are named."""
    if not plan.every_environment_loads(root):
        return  # a broken file's outputs would look stale: its own subtask reports it
    gone = plan.removed(root)
    _say(root, writer.remove(root, gone))
    for folder in sorted({str(Path(rel).parent) for rel in gone}):
        for left in sorted((root / folder).rglob("*")) if (root / folder).is_dir() else []:
            if left.is_file():
                console.note(f"kept {left.relative_to(root).as_posix()}: render did not make it")


def nothing_to_prune(root: Path) -> bool:
    return not plan.every_environment_loads(root) or not plan.removed(root)


def _digest(paths: list[str]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        try:
            digest.update(path.encode() + b"\0" + Path(path).read_bytes() + b"\0")
        except OSError:
            digest.update(path.encode() + b"\0missing\0")
    return digest.hexdigest()


def _outputs(targets: list[str]) -> dict[str, str]:
    """The value saved after a successful run: the digest of what was written."""
    return {"outputs": _digest(targets)}


def outputs_unchanged(task: Any, values: dict[str, Any]) -> bool:
    """Up to date only if the files on disk are the ones this task last wrote: a run killed
    mid-write (or a hand edit) leaves other bytes, which doit alone would not notice."""
    task.value_savers.append(partial(_outputs, task.targets))
    return bool(values.get("outputs")) and values.get("outputs") == _digest(task.targets)


def _code() -> list[str]:
    # What rendering runs: the renderer, the configuration loader and this family (with every
    # module of the tool they import), so a change to any of them renders again.
    return paths.code_files(plan, config, sys.modules[__name__])


def _shared_deps(run: Run) -> list[str]:
    """Every template and the rendering code: the same for every subtask of one run, so the
    templates folder is walked once per run, not once per subtask."""
    found: list[str] = run.once("render:shared-deps", _templates_and_code)
    return found


def _templates_and_code() -> list[str]:
    return [*paths.template_files(), *_code()]


def _targets(run: Run, produce: Produce) -> list[str]:
    try:
        return sorted(produce(run.root))
    except StackError:  # the subtask reports it when run
        return []


def _task(run: Run, name: str, doc: str, produce: Produce, deps: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "doc": doc,
        "actions": [(user_errors(write), [produce, plan.prune_folders(produce), run.root])],
        # Every template: a subtask's write depends on all of them rendering (all or nothing).
        "file_dep": sorted({*deps, *_shared_deps(run)}),
        "targets": _targets(run, produce),
        "uptodate": [outputs_unchanged],
        # No "clean": the outputs are committed files, and `doit clean` must never delete them.
    }


@creator(Task("render", Scope.ALL))
def task_render(run: Run) -> Iterator[dict[str, Any]]:
    """Render Compose files, Kustomize base/overlays and Terraform inputs from environments/."""
    yield {
        "name": "config",
        "doc": "Validate every environment file (nothing is written if one is wrong).",
        "actions": [(user_errors(check_all), [run.root])],
        "file_dep": [STACK, *map(_env_path, run.envs), *_code()],
    }
    yield _task(run, "k8s-base", "Kustomize base: one file per workload.", plan.stack_base, [STACK])
    yield _task(run, "k8s-components", "Kustomize components (ingress, hpa).", plan.stack_components, [STACK])
    for env in run.envs:
        yield from _env_tasks(run, env)
    if not paths.is_tool(run.root):
        # The tool's checkout is where the modules live; any other project gets copies.
        yield _task(
            run,
            "terraform-modules",
            "Copies of the tool's modules the roots call.",
            plan.terraform_modules,
            [STACK, *map(_env_path, run.envs), *paths.tool_modules()],
        )
    if not paths.is_tool(run.root):
        yield _task(
            run,
            "docker-builds",
            "Copies of the tool's database build folders (docker/<name>) the databases build from.",
            plan.docker_builds,
            [STACK, *map(_env_path, run.envs), *build_copies.tool_file_deps()],
        )
    yield _task(
        run,
        "docs-placement",
        "docs/placement.md: where each database runs, per environment.",
        plan.docs_placement,
        [STACK, *map(_env_path, run.envs), *paths.code_files(placement)],
    )
    yield {
        "name": "prune",
        "doc": "Remove what render made for environments (or runtimes, cloud blocks) that are gone.",
        "actions": [(user_errors(prune), [run.root])],
        # Runs after every writer: what it removes is what none of them makes.
        "task_dep": [f"render:{name}" for name in _writers(run)],
        "uptodate": [(nothing_to_prune, [run.root])],
    }


def _writers(run: Run) -> list[str]:
    names = ["k8s-base", "k8s-components"]
    for env in run.envs:
        got = run.try_config(env)
        names.append(f"compose-{env}")
        if isinstance(got, Config) and got.runtime == "kubernetes":
            names.append(f"k8s-{env}")
        if isinstance(got, Config) and got.cloud is not None:
            names.append(f"terraform-{env}")
    return [*names, *([] if paths.is_tool(run.root) else ["terraform-modules"]), "docs-placement"]


def _env_tasks(run: Run, env: str) -> Iterator[dict[str, Any]]:
    """The render subtasks of one environment: what its configuration says it runs on."""
    deps = [STACK, _env_path(env)]
    got = run.try_config(env)
    if isinstance(got, StackError):
        # Never vanish: `doit render:compose-<env>` fails with the file's own error.
        yield failing(got, name=f"compose-{env}")
        return
    yield _task(run, f"compose-{env}", f"Compose files for {env}.", partial(plan.env_compose, env), deps)
    if got.runtime == "kubernetes":
        yield _task(run, f"k8s-{env}", f"Kustomize overlay for {env}.", partial(plan.env_overlay, env), deps)
    if got.cloud is not None:
        yield _task(
            run, f"terraform-{env}", f"Terraform inputs for {env}.", partial(plan.env_terraform, env), deps
        )
