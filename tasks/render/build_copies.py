"""Database build folders for a project that is not the tool's checkout: byte-for-byte
copies of the tool's generic docker/<name>/ folders (Redis, RabbitMQ from Debian packages)
that its databases build from (`build: docker/redis`), and docker/README.md listing them.

As for Terraform modules (tasks/render/module_copies.py), a copy is the tool's: `doit
render` keeps it byte-identical (and its mode) and removes it when no database builds from it
any more (tasks/render/writer.py `sync_modes`, `prune_build_copies`: the writer alone changes
files).
Which folders are copies is what docker/README.md lists (it carries our header): a folder
it does not list is the project's own, and is never written or removed, even when its
name is one of the tool's.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path

from tasks.errors import StackError
from tasks.model import Config
from tasks.render import templates
from tasks.render.templates import Outputs
from tasks.store import paths, state

DOCKER = paths.DOCKER
README = f"{DOCKER}/README.md"
MARK = "by `doit render`"
_LISTED = re.compile(r"^\| `docker/([^/`]+)/` \|", re.MULTILINE)


def managed(root: Path) -> set[str]:
    """The folders the README of our copies lists (none without that README)."""
    try:
        text = (root / README).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    return set(_LISTED.findall(text)) if MARK in text[:300] else set()


def users(cfgs: Iterable[Config], root: Path) -> dict[str, list[str]]:
    """Tool folder -> "<database>: <environments>" of the databases that build from a copy
    of it: those whose `build:` names it, where the project has no folder of its own there."""
    mine = managed(root)
    found: dict[str, dict[str, list[str]]] = {}
    for cfg in cfgs:
        for db in cfg.databases.values():
            name = paths.tool_build_folder(db.build) if db.build and db.placement != "disabled" else None
            if name is None or (name not in mine and (root / DOCKER / name).exists()):
                continue
            found.setdefault(name, {}).setdefault(db.name, []).append(cfg.env)
    return {
        name: [f"{db}: {', '.join(envs)}" for db, envs in sorted(dbs.items())]
        for name, dbs in sorted(found.items())
    }


def build_copies(cfgs: Iterable[Config], root: Path) -> Outputs:
    """The copies (path -> the tool's bytes) and their README."""
    folders = users(cfgs, root)
    refuse_own_readme(root, README, list(folders), "stackbuild's build folders", "docs/docker.md")
    out: Outputs = {}
    for name in folders:
        for source in tool_files(name):
            rel = source.relative_to(paths.TOOL / DOCKER / name).as_posix()
            out[f"{DOCKER}/{name}/{rel}"] = functools.partial(_exact_text, source)
    if folders:
        out[README] = templates.render_later("docker/README.md.j2", folders=folders)
    return out


def refuse_own_readme(root: Path, readme: str, copied: list[str], what: str, elsewhere: str) -> None:
    """The README that lists the copies (docker/README.md, terraform/modules/README.md) is
    render's only while it carries render's header: one of the project's own is never
    overwritten. Say so, with the way out, when there are copies to list there."""
    path = root / readme
    if copied and path.is_file() and MARK not in path.read_text(encoding="utf-8", errors="replace")[:300]:
        raise StackError(
            f"{readme} is the project's own, but `doit render` keeps the list of the copies of "
            f"{what} there (for {', '.join(copied)})",
            fix=f"move your {readme} (e.g. to {elsewhere}), then run `doit render` again",
        )


def tool_files(name: str) -> list[Path]:
    """Every file of one of the tool's build folders (never another run's temp file)."""
    folder = templates.tool_folder(paths.TOOL / DOCKER / name, f"{DOCKER}/{name} is")
    return sorted(p for p in folder.rglob("*") if p.is_file() and not state.is_temp(p))


def tool_file_deps() -> list[str]:
    """Every file of every tool build folder (absolute): what the copies are made from."""
    return [p.as_posix() for name in paths.tool_build_folders() for p in tool_files(name)]


def _exact_text(source: Path) -> str:
    # Bytes decoded as they are (read_text would turn a CRLF into LF): a copy is the same bytes.
    return source.read_bytes().decode("utf-8")
