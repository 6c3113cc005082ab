"""What the inner loop (`doit dev`) watches, and the batches of changes it waits for.

The watched paths come from the configuration, never from a list of ours: every build
context and Dockerfile (services, the shared builder, databases built here), a service's
own `inputs` and sync sources, and `environments/` and `templates/`. The watching is `watchfiles` (Rust's
notify under it): it debounces, and it keeps collecting while the caller runs a cycle, so
a change made during a cycle comes back as the next batch once the cycle ends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from tasks.errors import missing_package
from tasks.model import Config

# Folders of the project that describe the stack for every environment.
CONFIG_FOLDERS = ("environments", "templates")
# Never a change worth a cycle: version control, the tool's own state, caches.
IGNORED_PARTS = frozenset({".git", ".build", "__pycache__", ".pytest_cache", ".mypy_cache", "node_modules"})
# Editors' temporary files (vim's swap and its write test 4913, emacs' lock and autosave,
# backups ending in ~, JetBrains' ___jb_ files).
TEMP_SUFFIXES = (".swp", ".swo", ".swx", ".tmp", "~", "___jb_tmp___", "___jb_old___")
# How long the watcher waits for quiet before it reports a batch (ms): an editor's save is
# often several writes (temp file, rename, chmod).
DEBOUNCE_MS = 150
# How often (ms) the watcher looks at the stop event: Ctrl-C must end the loop within 2 s.
STEP_MS = 50


def library() -> ModuleType:
    """watchfiles, imported only by the loop: `doit list` neither loads nor needs it."""
    try:
        import watchfiles
    except ImportError as exc:
        raise missing_package(exc) from None
    return watchfiles


def watched(cfg: Config, root: Path) -> list[Path]:
    """The existing paths to watch, outermost only (a folder covers what is inside it). Loads
    the watcher first: a missing one is said before the loop starts, not after its first line."""
    library()
    names = {*CONFIG_FOLDERS}
    for svc in cfg.services.values():
        names |= {svc.build.context, svc.build.dockerfile, *svc.inputs, *(r.source for r in svc.sync)}
    if cfg.images.builder is not None:
        names |= {cfg.images.builder.context, cfg.images.builder.dockerfile}
    names |= {db.build for db in cfg.databases.values() if db.build and db.placement != "disabled"}
    found = sorted({(root / n).resolve() for n in names if n and (root / n).exists()})
    return [p for p in found if not any(q != p and q in p.parents for q in found)]


def ignored(path: Path) -> bool:
    """An editor's temporary file or a file under .git/, .build/ or a cache: never a change."""
    name = path.name
    if any(part in IGNORED_PARTS for part in path.parts):
        return True
    return name.startswith((".#", "#")) or name.endswith(TEMP_SUFFIXES) or name == "4913"


def relative(paths: set[str], root: Path) -> list[str]:
    """Project-relative paths of a batch, sorted, without ignored ones."""
    base = root.resolve()
    out = set()
    for raw in paths:
        path = Path(raw)
        try:
            path = path.resolve().relative_to(base)
        except ValueError:
            continue  # outside the project (a symlink target): not ours to map
        if not ignored(path):
            out.add(str(path))
    return sorted(out)


def batches(paths: list[Path], root: Path, stop: threading.Event) -> Iterator[list[str]]:
    """Each debounced batch of changed files (project-relative), until `stop` is set."""
    watchfiles = library()

    def wanted(_change: object, path: str) -> bool:
        return not ignored(Path(path))

    for changes in watchfiles.watch(
        *paths,
        watch_filter=wanted,
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        stop_event=stop,
        # Ctrl-C reaches the loop, which ends with exit 0 and says how to stop the stack.
        raise_interrupt=True,
    ):
        files = relative({path for _change, path in changes}, root)
        if files:
            yield files
