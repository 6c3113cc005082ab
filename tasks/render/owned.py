"""Which files `doit render` made, and where it may write: render deletes only what it made.

The manifest of what render made sits beside the outputs and is committed with them: every
generated file says so in its first lines (`... by \\`doit render\\`. Do not edit.`), and
terraform/modules/README.md lists the modules that are copies (a copy carries no header: it is
the tool's module byte for byte). A manifest under .build/ would be lost exactly when it is
needed: in a fresh clone, or after `.build/` was deleted (always safe to do).

So a file is render's when it carries the header, or is a copy of a module the README lists
(or one byte-identical to the tool's: nothing is lost removing it). Anything else is the
user's, even at a path where render would put something, and is never removed or replaced.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from pathlib import Path

from tasks.errors import StackError
from tasks.render.module_copies import MODULES, MODULES_README
from tasks.store import paths, state

MARK = "`doit render`"
# The first line render writes into every file it makes (tasks/render/templates.py HEADER, the
# placement doc's): a file that only mentions `doit render` (a note, a copied header further
# down) is the user's, never removed.
HEADER = re.compile(
    r"(#|<!--) Generated from \S+ by (`doit render`|\S+ \(`doit render`\))\. Do not edit\.( -->)?"
)
_ROW = re.compile(r"^\| `([a-z0-9-]+)` \|", re.MULTILINE)


def generated(path: Path) -> bool:
    """The file's first line is render's header."""
    try:
        with path.open("rb") as handle:
            first = handle.readline(300).decode("utf-8", errors="replace").rstrip("\r\n")
    except OSError:
        return False
    return HEADER.fullmatch(first) is not None


def generated_under(root: Path, folders: Iterable[str], skip: Collection[str] = ()) -> list[str]:
    """Every file render made below the folders (never another run's temp file), except those
    in `skip`, which are not opened: the caller already knows their fate (render makes them
    again), and reading every output's first line was a third of `doit list` at 300 services."""
    out: set[str] = set()
    for folder in folders:
        for path in (root / folder).rglob("*"):
            rel = path.relative_to(root).as_posix()
            if rel in skip or not path.is_file() or path.is_symlink() or state.is_temp(path):
                continue
            if generated(path):
                out.add(rel)
    return sorted(out)


def listed_copies(root: Path) -> set[str]:
    """The modules terraform/modules/README.md (render's, on disk now) says are copies."""
    readme = root / MODULES_README
    if not readme.is_file() or not generated(readme):
        return set()
    return set(_ROW.findall(readme.read_text(encoding="utf-8", errors="replace")))


def is_copy(root: Path, rel: str, listed: set[str]) -> bool:
    """A file of terraform/modules/<name>/ that render copied there."""
    inside = Path(rel).relative_to(MODULES)
    if len(inside.parts) < 2:
        return False
    tool = paths.TOOL / MODULES / inside
    if inside.parts[0] in listed:
        # Only the tool's files: one the team added to a copy is theirs, never removed.
        return tool.is_file()
    # Not listed (made before the README listed copies): a copy only if the whole folder is
    # the tool's module byte for byte; a module of the team's that started as one is theirs.
    return _is_the_tools_module(root, inside.parts[0])


def _is_the_tools_module(root: Path, name: str) -> bool:
    ours, tools = root / MODULES / name, paths.TOOL / MODULES / name
    try:
        mine = sorted(p.relative_to(ours) for p in ours.rglob("*") if p.is_file())
        theirs = sorted(p.relative_to(tools) for p in tools.rglob("*") if p.is_file())
        return (
            bool(theirs)
            and mine == theirs
            and all((ours / rel).read_bytes() == (tools / rel).read_bytes() for rel in mine)
        )
    except OSError:
        return False


def copies_under(root: Path, listed: set[str]) -> list[str]:
    """Every module copy render made in terraform/modules/, and its README."""
    folder = root / MODULES
    out = []
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or path.is_symlink() or state.is_temp(path):
            continue
        if is_copy(root, rel, listed) or (rel == MODULES_README and generated(path)):
            out.append(rel)
    return out


def refuse_foreign_copies(outputs: dict[str, str], root: Path, listed: set[str]) -> None:
    """A module of the team's own where a copy would go is never replaced: say so instead."""
    for rel, text in sorted(outputs.items()):
        path = root / rel
        if rel == MODULES_README or not path.is_file() or is_copy(root, rel, listed):
            continue
        if path.read_bytes() != text.encode("utf-8"):
            name = Path(rel).relative_to(MODULES).parts[0]
            raise StackError(
                f"{rel} was not made by render, but a cloud environment needs the tool's module "
                f"{name} there: refusing to replace it",
                fix=f"move your module to a folder with another name (terraform/modules/{name}-own), "
                "then run `doit render` again",
            )


def outside(root: Path, rel: str) -> tuple[str, Path] | None:
    """(the link, where it leads) when writing or removing `rel` would go through a symlink
    out of the project; None when every step stays inside."""
    top = root.resolve()
    current = root
    for part in Path(rel).parts:
        current = current / part
        if current.is_symlink():
            target = current.resolve()
            if not target.is_relative_to(top):
                return current.relative_to(root).as_posix(), target
    return None


def refuse_links_out(root: Path, rels: Iterable[str], *, doing: str) -> None:
    for rel in rels:
        if found := outside(root, rel):
            link, target = found
            raise StackError(
                f"refusing to {doing} {rel}: {link} is a symlink to {target}, outside the project",
                fix=f"replace the link {link} with a real folder or file "
                "(render writes only inside the project)",
            )
