"""doit tasks: render environments/ through templates/ into k8s/, compose/, terraform/.

All or nothing: whichever render subtask runs first renders and parses the output of
every environment whose file loads (about 0.1 s), once per run; each subtask then writes
only its own files. So a template error stops every subtask before the first write,
while one broken environment file only stops the subtasks that read it.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterator
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
from tasks.render import files as render
from tasks.render import module_copies, placement, templates, writer
from tasks.render.templates import Outputs
from tasks.store import paths

STACK = f"{config.ENV_DIR}/{config.STACK_FILE}"
Produce = Callable[[Path], Outputs]


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


# --- producers: each loads its configuration when called, so a task built at load
# time still renders from the files as they are when it runs.


def stack_base(root: Path) -> Outputs:
    return render.k8s_base(config.load_stack(root))


def stack_components(root: Path) -> Outputs:
    return render.k8s_components(config.load_stack(root))


def env_compose(env: str, root: Path) -> Outputs:
    return render.compose(config.load(env, root))


def env_overlay(env: str, root: Path) -> Outputs:
    return render.k8s_overlay(config.load(env, root), config.load_stack(root))


def env_terraform(env: str, root: Path) -> Outputs:
    return render.terraform(config.load(env, root))


def docs_placement(root: Path) -> Outputs:
    """docs/placement.md: where each database runs, in every environment (all must load)."""
    configs = [config.load(env, root) for env in config.environments(root)]
    return {placement.PATH: partial(placement.markdown, configs)}


def terraform_modules(root: Path) -> Outputs:
    """terraform/modules/ of a project that is not the tool's checkout: copies of the tool's
    modules its cloud roots call. Every environment must load (what one uses is kept)."""
    return module_copies.module_copies(config.load(env, root) for env in config.environments(root))


def producers(root: Path) -> list[Produce]:
    """Every producer whose configuration loads (what one run renders before writing)."""
    out: list[Produce] = [stack_base, stack_components]
    broken = False
    for env in config.environments(root):
        try:
            cfg = config.load(env, root)
        except StackError:
            broken = True
            continue  # its own subtasks report it
        out += _env_producers(env, cfg)
    if broken:
        return out
    return [*out, docs_placement] if paths.is_tool(root) else [*out, docs_placement, terraform_modules]


def _env_producers(env: str, cfg: Config) -> list[Produce]:
    out: list[Produce] = [partial(env_compose, env)]
    if cfg.runtime == "kubernetes":
        out.append(partial(env_overlay, env))
    if cfg.cloud is not None:
        out.append(partial(env_terraform, env))
    return out


_RENDERED: dict[tuple[Any, ...], dict[str, str]] = {}


def rendered(root: Path) -> dict[str, str]:
    """Every output of every loadable environment, rendered and parsed, once per input state."""
    key = _inputs_key(root)
    if key not in _RENDERED:
        outputs: Outputs = {}
        for produce in producers(root):
            outputs.update(produce(root))
        texts = templates.texts(outputs)
        writer.parse_check(texts)
        _RENDERED.clear()
        _RENDERED[key] = texts
    return _RENDERED[key]


def _inputs_key(root: Path) -> tuple[Any, ...]:
    files = [
        *sorted((root / config.ENV_DIR).glob("*.yaml")),
        *sorted(paths.templates(root).rglob("*")),
        *([] if paths.is_tool(root) else map(Path, paths.tool_modules())),
    ]
    stats = []
    for path in files:
        try:
            st = path.stat()
        except OSError:
            continue
        stats.append((str(path), st.st_mtime_ns, st.st_size))
    return (str(root), *stats)


def write(produce: Produce, prune: tuple[str, ...], root: Path) -> None:
    """Write this subtask's files, from the run's all-environments render."""
    mine = produce(root)  # raises this subtask's own configuration error, if any
    everything = rendered(root)
    outputs = {path: everything[path] for path in mine}
    changed = writer.write_all(outputs, root, prune=prune)
    if produce is terraform_modules:  # copies carry no header: pruned by their own rule
        changed += writer.prune_copies(outputs, root)
    for path in changed:
        console.step(f"{'wrote' if (root / path).exists() else 'removed'} {path}")


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
    return paths.code_files(render, config, sys.modules[__name__])


def _shared_deps(run: Run) -> list[str]:
    """Every template and the rendering code: the same for every subtask of one run, so the
    templates folder is walked once per run, not once per subtask."""
    found: list[str] = run.once("render:shared-deps", lambda: [*paths.template_files(), *_code()])
    return found


def _targets(run: Run, produce: Produce) -> list[str]:
    try:
        return sorted(produce(run.root))
    except StackError:  # the subtask reports it when run
        return []


def _task(
    run: Run, name: str, doc: str, produce: Produce, deps: list[str], prune: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "name": name,
        "doc": doc,
        "actions": [(user_errors(write), [produce, prune, run.root])],
        # Every template: a subtask's write depends on all of them rendering (all or nothing).
        "file_dep": sorted({*deps, *_shared_deps(run)}),
        "targets": _targets(run, produce),
        "uptodate": [outputs_unchanged],
        "clean": True,
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
    yield _task(run, "k8s-base", "Kustomize base: one file per workload.", stack_base, [STACK], ("k8s/base",))
    yield _task(
        run,
        "k8s-components",
        "Kustomize components (ingress, hpa).",
        stack_components,
        [STACK],
        ("k8s/components",),
    )
    for env in run.envs:
        yield from _env_tasks(run, env)
    if not paths.is_tool(run.root):
        # The tool's checkout is where the modules live; any other project gets copies.
        yield _task(
            run,
            "terraform-modules",
            "Copies of the tool's modules the roots call.",
            terraform_modules,
            [STACK, *map(_env_path, run.envs), *paths.tool_modules()],
        )
    yield _task(
        run,
        "docs-placement",
        "docs/placement.md: where each database runs, per environment.",
        docs_placement,
        [STACK, *map(_env_path, run.envs), *paths.code_files(placement)],
    )


def _env_tasks(run: Run, env: str) -> Iterator[dict[str, Any]]:
    """The render subtasks of one environment: what its configuration says it runs on."""
    deps = [STACK, _env_path(env)]
    got = run.try_config(env)
    if isinstance(got, StackError):
        # Never vanish: `doit render:compose-<env>` fails with the file's own error.
        yield failing(got, name=f"compose-{env}")
        return
    yield _task(
        run,
        f"compose-{env}",
        f"Compose files for {env}.",
        partial(env_compose, env),
        deps,
        (f"compose/{env}",),
    )
    if got.runtime == "kubernetes":
        yield _task(
            run,
            f"k8s-{env}",
            f"Kustomize overlay for {env}.",
            partial(env_overlay, env),
            deps,
            (f"k8s/overlays/{env}",),
        )
    if got.cloud is not None:
        yield _task(
            run, f"terraform-{env}", f"Terraform inputs for {env}.", partial(env_terraform, env), deps
        )
