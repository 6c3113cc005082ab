"""What one `doit render` will produce and remove, known before it runs.

The producers (one per render subtask) load their configuration when called, so a task built
at load time still renders from the files as they are when it runs. `rendered` renders and
parses every output of every loadable environment once per input state. `removed` is what the
render will delete: the files render made (tasks/render/owned.py) that no producer makes any
more. Tasks that read rendered files list `after_render(...)` as their dependencies, so a
valid edit that removes a file (a replica count back to the default) never leaves another
task depending on a file that is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from tasks.config import load as config
from tasks.errors import StackError
from tasks.model import Config
from tasks.render import build_copies, module_copies, owned, placement, templates, writer
from tasks.render import files as render
from tasks.render.templates import Outputs
from tasks.store import paths

Produce = Callable[[Path], Outputs]
# Where render writes. Outside these nothing is ever removed; inside, only what render made.
MANAGED = ("k8s", "compose", "terraform/environments")


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
    return module_copies.module_copies((config.load(env, root) for env in config.environments(root)), root)


def docker_builds(root: Path) -> Outputs:
    """docker/ of a project that is not the tool's checkout: copies of the tool's database
    build folders its databases build from. Every environment must load (what one uses is kept)."""
    return build_copies.build_copies((config.load(env, root) for env in config.environments(root)), root)


def prune_folders(produce: Produce) -> tuple[str, ...]:
    """The folders a producer owns whole: what it made there and no longer makes is removed."""
    func = getattr(produce, "func", produce)
    args: tuple[str, ...] = getattr(produce, "args", ())
    if func is stack_base:
        return ("k8s/base",)
    if func is stack_components:
        return ("k8s/components",)
    if func is env_compose:
        return (f"compose/{args[0]}",)
    if func is env_overlay:
        return (f"k8s/overlays/{args[0]}",)
    return ()


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
    if paths.is_tool(root):
        return [*out, docs_placement]
    return [*out, docs_placement, terraform_modules, docker_builds]


def every_environment_loads(root: Path) -> bool:
    return docs_placement in producers(root)


def _env_producers(env: str, cfg: Config) -> list[Produce]:
    out: list[Produce] = [partial(env_compose, env)]
    if cfg.runtime == "kubernetes":
        out.append(partial(env_overlay, env))
    if cfg.cloud is not None:
        out.append(partial(env_terraform, env))
    return out


_RENDERED: dict[tuple[Any, ...], dict[str, str]] = {}


def rendered(root: Path) -> dict[str, str]:
    """Every output of every loadable environment, rendered and parsed, once per input state;
    refused (before any subtask writes) when a changed one would be written through a link out."""
    key = _inputs_key(root)
    if key not in _RENDERED:
        outputs: Outputs = {}
        for produce in producers(root):
            outputs.update(produce(root))
        texts = templates.texts(outputs)
        writer.parse_check(texts)
        writer.refuse_writes_out(texts, root)
        _RENDERED.clear()
        _RENDERED[key] = texts
    return _RENDERED[key]


def _inputs_key(root: Path) -> tuple[Any, ...]:
    files = [
        *sorted((root / config.ENV_DIR).glob("*.yaml")),
        *sorted(paths.templates(root).rglob("*")),
        *([] if paths.is_tool(root) else map(Path, [*paths.tool_modules(), *build_copies.tool_file_deps()])),
    ]
    return (str(root), *_stats(files))


def _stats(files: Iterable[Path]) -> list[tuple[str, int, int]]:
    out = []
    for path in files:
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((str(path), st.st_mtime_ns, st.st_size))
    return out


_PRODUCED: dict[tuple[Any, ...], frozenset[str]] = {}


def produced(root: Path) -> set[str]:
    """The path of every output this render makes (nothing is rendered to know them), once per
    input state: every task that reads rendered files asks, and each answer builds every
    environment's overlay names (its egress paths too), so asking again made `doit list` grow
    with tasks x services."""
    key = _inputs_key(root)
    if key not in _PRODUCED:
        out: set[str] = set()
        for produce in producers(root):
            try:
                out.update(produce(root))
            except StackError:
                continue
        _PRODUCED.clear()
        _PRODUCED[key] = frozenset(out)
    return set(_PRODUCED[key])


def removed(root: Path) -> list[str]:
    """The files this render deletes: made by render, under a folder a producer owns (or, when
    every environment loads, anywhere render writes), and made by no producer now."""
    made = produced(root)
    folders = [folder for produce in producers(root) for folder in prune_folders(produce)]
    everything = every_environment_loads(root)
    if everything:
        folders += MANAGED
    out = set(owned.generated_under(root, folders, skip=made))
    if everything and not paths.is_tool(root):
        listed = owned.listed_copies(root)
        out |= {rel for rel in owned.copies_under(root, listed) if rel not in made}
    return sorted(out)


_THIS_RUN: dict[Path, tuple[frozenset[str], frozenset[str]]] = {}


def after_render(root: Path, files: Iterable[str], *folders: str) -> list[str]:
    """`files` as they will be once this run's render has run: without those it deletes, and
    with what it newly makes under `folders` (dependencies of tasks that read rendered files).

    Only task creators ask, and nothing renders while tasks are created, so the answer is
    worked out once per run (`forget()` at each run's start): keying it on the disk at every
    ask stamped every generated file each time, 16,000 stats in a `doit list` of 300 services."""
    if root not in _THIS_RUN:
        _THIS_RUN[root] = (frozenset(removed(root)), frozenset(produced(root)))
    gone, made = _THIS_RUN[root]
    new: set[str] = set()
    if folders:
        new = {rel for rel in made if rel.startswith(tuple(f"{f}/" for f in folders))}
    return sorted({*(f for f in files if f not in gone), *new})


def forget() -> None:
    """A new run: what render removes and makes is worked out again on the next ask."""
    _THIS_RUN.clear()
