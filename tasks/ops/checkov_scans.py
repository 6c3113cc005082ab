"""Which checkov scans still have to run: what a scan passed is remembered by its content.

A scan that names its files (`-f`) is judged file by file: a file is scanned again only when
its content, checkov itself (its path, size and time) or .checkov.yaml changed since a scan
that passed saw it, so one changed overlay re-scans that overlay alone, not every
environment's. A scan of a folder (`-d`) is one key over every file under it. The keys live
in tasks/store/passed.py's records; a scan that fails is never remembered.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from tasks.programs import tools


@dataclass(frozen=True)
class Pending:
    """A scan with something left to check: the arguments to run and the keys it then passed."""

    framework: str
    args: list[str]
    keys: list[str]


def identity(config: Path) -> bytes:
    """What every result depends on besides the scanned files: checkov and its configuration."""
    found = tools.which("checkov") or ""
    try:
        st = Path(found).stat() if found else None
    except OSError:
        st = None
    stamp = f"{found}\0{st.st_size if st else -1}\0{st.st_mtime_ns if st else -1}\0".encode()
    return stamp + _content(config)


def _content(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b"\0missing"  # a file that is not there is a key of its own, never a match


def _folder(folder: Path) -> bytes:
    try:
        files = sorted(p for p in folder.rglob("*") if p.is_file())
    except OSError:
        return b"\0missing"
    return b"".join(p.relative_to(folder).as_posix().encode() + b"\0" + _content(p) + b"\0" for p in files)


def _key(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def split(args: list[str]) -> tuple[list[str], list[str]]:
    """(the options of a scan, the files it names with `-f`)."""
    options: list[str] = []
    files: list[str] = []
    pairs = iter(args)
    for arg in pairs:
        if arg == "-f":
            files.append(next(pairs, ""))
        else:
            options.append(arg)
    return options, files


def pending(scans: list[tuple[str, list[str]]], *, config: Path, known: set[str]) -> list[Pending]:
    """Each scan with its inputs not yet passed, narrowed to its files that changed."""
    base = identity(config)
    out = []
    for framework, args in scans:
        options, files = split(args)
        head = (base, framework.encode(), "\0".join(options).encode())
        if not files:
            folders = [Path(options[i + 1]) for i, a in enumerate(options[:-1]) if a == "-d"]
            key = _key(*head, *(_folder(f) for f in folders))
            if key not in known:
                out.append(Pending(framework, args, [key]))
            continue
        keys = {f: _key(*head, f.encode(), _content(Path(f))) for f in files}
        todo = [f for f in files if keys[f] not in known]
        if todo:
            narrowed = [*options, *(x for f in todo for x in ("-f", f))]
            out.append(Pending(framework, narrowed, [keys[f] for f in todo]))
    return out
