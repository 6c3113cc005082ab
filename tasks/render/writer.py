"""Writing rendered outputs: the one place `doit render` changes files.

Everything is rendered and parsed before the first write (`parse_check`); then every changed
file is replaced all or nothing (`write_all`), and what no environment produces any more is
removed: generated files in a task's folders, and unused module copies (`prune_copies`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tasks.errors import StackError
from tasks.render.module_copies import MODULES, MODULES_README
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


def write_all(outputs: dict[str, str], root: Path, *, prune: Iterable[str] = ()) -> list[str]:
    """Write every changed output, all or nothing; return the paths whose bytes changed (or were removed).

    Called only after everything rendered and parsed, so a template or config error
    leaves the tree untouched. Unchanged files are not rewritten. In `prune` folders,
    generated files (they carry our header) that are no longer produced are removed.
    """
    changed = [rel for rel, text in sorted(outputs.items()) if not _holds(root / rel, text)]
    try:
        # All or nothing: a failure in the middle leaves every output as it was.
        state.write_all_atomic({root / rel: outputs[rel] for rel in changed})
    except OSError as exc:  # a read-only checkout, a file where a folder should be, a full disk
        failed = Path(exc.filename).relative_to(root).as_posix() if exc.filename else "the outputs"
        raise StackError(
            f"cannot write {failed}: {exc.strerror or exc}",
            fix=f"make {Path(failed).parent} a writable folder, then run `doit render` again",
        ) from None
    for folder in prune:
        for path in sorted((root / folder).rglob("*")):
            rel = path.relative_to(root).as_posix()
            # Another run's temp file is in flight, not stale output: never touch it.
            if not path.is_file() or state.is_temp(path) or rel in outputs:
                continue
            if "by `doit render`" in path.read_text(errors="replace")[:300]:
                path.unlink()
                changed.append(rel)
    return changed


def prune_copies(outputs: dict[str, str], root: Path) -> list[str]:
    """Remove the module copies (and their README) no environment uses any more.

    A copy is a file at a path the tool's own module has; anything else under
    terraform/modules/ (a team's own module) is never touched. Emptied folders go too:
    a module folder without files would fail `tf_validate`."""
    removed: list[str] = []
    folder = root / MODULES
    if not folder.is_dir():
        return removed
    tool = paths.TOOL / MODULES
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or state.is_temp(path) or rel in outputs:
            continue
        inside = path.relative_to(folder)
        copy = len(inside.parts) > 1 and (tool / inside).is_file()
        readme = rel == MODULES_README and "by `doit render`" in path.read_text(errors="replace")[:300]
        if copy or readme:
            path.unlink()
            removed.append(rel)
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        if not any(sub.iterdir()):
            sub.rmdir()
    if not any(folder.iterdir()):
        folder.rmdir()
    return removed
