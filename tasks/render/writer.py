"""Writing rendered outputs: the one place `doit render` changes files.

Everything is rendered and parsed before the first write (`parse_check`); then every changed
file is replaced all or nothing (`write_all`), and what no environment produces any more is
removed: generated files in a task's folders, unused module copies (`prune_copies`) and
database build copies (`prune_build_copies`; `sync_modes` gives a copy its source's mode), and
what render made for an environment that is gone (`remove`, with tasks/render/plan.py `removed`).
Only files render made are removed (tasks/render/owned.py), never through a symlink out of
the project.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tasks.errors import StackError
from tasks.render import build_copies, owned
from tasks.store import paths, state


def parse_check(outputs: dict[str, str]) -> None:
    """Every YAML output must parse: the last guard before anything is written."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for rel, text in sorted(outputs.items()):
        if not rel.endswith((".yaml", ".yml")):
            continue
        try:
            for _ in yaml.load_all(text, Loader=loader):
                pass
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f", line {mark.line + 1}" if mark else ""
            raise StackError(
                f"rendering produced invalid YAML in {rel}{where}: {getattr(exc, 'problem', exc)}",
                fix="fix the template that writes it (its header names it), or the value it prints",
            ) from None


def _holds(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") == text
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, UnicodeDecodeError):
        return False  # gremlin: pardon[equivalent] its one caller negates it: None is "not held" too


def changed_outputs(outputs: dict[str, str], root: Path) -> list[str]:
    """The outputs whose bytes on disk differ from what was rendered (or that are missing)."""
    return [rel for rel, text in sorted(outputs.items()) if not _holds(root / rel, text)]


def refuse_writes_out(outputs: dict[str, str], root: Path) -> None:
    """Before a run's first write: no changed output is reached through a symlink out of the
    project (each subtask writes its own files, so one refusing late would leave the others'
    writes done)."""
    owned.refuse_links_out(root, changed_outputs(outputs, root), doing="write")


def write_all(outputs: dict[str, str], root: Path, *, prune: Iterable[str] = ()) -> list[str]:
    """Write every changed output, all or nothing; return the paths whose bytes changed (or were removed).

    Called only after everything rendered and parsed, so a template or config error
    leaves the tree untouched. Unchanged files are not rewritten, and nothing is written
    through a symlink out of the project. In `prune` folders, the files render made (they
    carry its header: tasks/render/owned.py) that are no longer produced are removed.
    """
    changed = changed_outputs(outputs, root)
    stale = owned.generated_under(root, prune, skip=outputs)
    owned.refuse_links_out(root, changed, doing="write")
    owned.refuse_links_out(root, stale, doing="remove")
    try:
        # All or nothing: a failure in the middle leaves every output as it was.
        state.write_all_atomic({root / rel: outputs[rel] for rel in changed})
    except OSError as exc:  # a read-only checkout, a file where a folder should be, a full disk
        failed = Path(exc.filename).relative_to(root).as_posix() if exc.filename else "the outputs"
        raise StackError(
            f"cannot write {failed}: {exc.strerror or exc}",
            fix=f"make {Path(failed).parent} a writable folder, then run `doit render` again",
        ) from None
    return changed + remove(root, stale)


def remove(root: Path, rels: Iterable[str]) -> list[str]:
    """Remove these files (render's, checked by the caller), and the folders they leave empty."""
    gone = sorted(rels)
    owned.refuse_links_out(root, gone, doing="remove")
    for rel in gone:
        (root / rel).unlink(missing_ok=True)
    for rel in gone:
        folder = (root / rel).parent
        while folder != root and folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
    return gone


def prune_copies(outputs: dict[str, str], root: Path, listed: set[str]) -> list[str]:
    """Remove the module copies (and their README) no environment uses any more.

    A copy is a file of a module terraform/modules/README.md listed as a copy before this
    render (`listed`), or one byte-identical to the tool's: anything else under
    terraform/modules/ (a team's own module, even one named like the tool's) is never touched.
    Emptied folders go too: a module folder without files would fail `tf_validate`."""
    return remove(root, [rel for rel in owned.copies_under(root, listed) if rel not in outputs])


def sync_modes(outputs: dict[str, str], root: Path) -> None:
    """A copy has its source's mode too (the writer writes 0644): an entrypoint script the
    Dockerfile COPYs must stay executable."""
    for rel in outputs:
        parts = Path(rel).parts
        if len(parts) < 3 or parts[0] != build_copies.DOCKER:
            continue
        source = paths.TOOL / rel
        mode = source.stat().st_mode & 0o777 if source.is_file() else None
        if mode is not None and (root / rel).stat().st_mode & 0o777 != mode:
            (root / rel).chmod(mode)


def prune_build_copies(outputs: dict[str, str], root: Path, listed: set[str]) -> list[str]:
    """Remove what the copies `listed` before this render held and no database uses now: the
    files at paths the tool's folder has (a file a user added is kept), docker/README.md when
    no copy is left, and the folders that are left empty."""
    removed: list[str] = []
    for name in sorted(listed):
        folder = root / build_copies.DOCKER / name
        tool = paths.TOOL / build_copies.DOCKER / name
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            rel = path.relative_to(root).as_posix()
            ours = path.is_file() and (tool / path.relative_to(folder)).is_file()
            if ours and rel not in outputs and not state.is_temp(path):
                path.unlink()
                removed.append(rel)
        for sub in sorted((p for p in [folder, *folder.rglob("*")] if p.is_dir()), reverse=True):
            if not any(sub.iterdir()):
                sub.rmdir()
    readme = root / build_copies.README
    ours = readme.is_file() and build_copies.MARK in readme.read_text(errors="replace")[:300]
    if build_copies.README not in outputs and ours:
        readme.unlink()
        removed.append(build_copies.README)
    return removed
