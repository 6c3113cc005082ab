"""The configuration's reads of the disk, recorded so a saved result can be proved still true.

Loading an environment is pure in its YAML files except for a few rules that look at the disk:
is a build context a folder, where does a symlink lead, which stages does a Dockerfile name,
is there a stray environments/*.yml. A loaded configuration is saved between runs
(tasks/config/load.py), and it stays valid only while every one of those answers stays the
same. So the rules ask the disk only through this module: inside `recording()`, each question
and its answer is kept, and `still_true` asks them all again. A question asked twice is kept
once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

# (question, path, answer): a question is one of the functions below, by name.
Probe = tuple[str, str, str]

_recording: dict[Probe, None] | None = None


def kind(path: Path) -> str:
    """ "dir", "file", "other" (a FIFO, socket or device) or "missing", following symlinks."""
    return _ask("kind", path, _kind)


def real(path: Path) -> str:
    """Where the path leads once every symlink is followed (Path.resolve)."""
    return _ask("real", path, _real)


def text(path: Path) -> str:
    """The file's text (UTF-8, bad bytes replaced); its content hash is what is recorded."""
    content = path.read_text(encoding="utf-8", errors="replace")
    _keep(("text", str(path), _digest(content)))
    return content


def names(folder: Path, pattern: str) -> list[str]:
    """The sorted names in `folder` that match `pattern`, hidden ones (editors' files) left out."""
    found = sorted(p.name for p in folder.glob(pattern) if not p.name.startswith("."))
    _keep(("names", f"{folder}\0{pattern}", "\0".join(found)))
    return found


@contextlib.contextmanager
def recording() -> Iterator[list[Probe]]:
    """Keep every question asked inside the block; the list is filled when the block ends."""
    global _recording
    outer, _recording = _recording, {}
    probes: list[Probe] = []
    try:
        yield probes
    finally:
        probes.extend(_recording)
        _recording = outer
        if outer is not None:  # a recording inside another: the outer one needs them too
            outer.update(dict.fromkeys(probes))


def still_true(probes: list[Probe]) -> bool:
    """Every recorded question gets the same answer today."""
    for question, where, answer in probes:
        if question == "names":
            folder, _, pattern = where.partition("\0")
            now = "\0".join(sorted(p.name for p in Path(folder).glob(pattern) if not p.name.startswith(".")))
        elif question == "text":
            try:
                now = _digest(Path(where).read_text(encoding="utf-8", errors="replace"))
            except OSError:
                return False
        elif question == "kind":
            now = _kind(Path(where))
        elif question == "real":
            now = _real(Path(where))
        else:  # a question this version does not know: the record is from another version
            return False
        if now != answer:
            return False
    return True


def _ask(question: str, path: Path, how: Callable[[Path], str]) -> str:
    answer = how(path)
    _keep((question, str(path), answer))
    return answer


def _keep(probe: Probe) -> None:
    if _recording is not None:
        _recording[probe] = None


def _kind(path: Path) -> str:
    try:
        if path.is_dir():
            return "dir"
        if path.is_file():
            return "file"
        return "other" if path.exists() else "missing"
    except OSError:  # a path too long, or a folder on it that cannot be searched
        return "missing"


def _real(path: Path) -> str:
    # os.path.realpath, not Path.resolve: on a symlink loop it raises RuntimeError (3.11), and the
    # loop's path is answer enough (it is no file or folder: the rules say so, with the line).
    return os.path.realpath(path)


def _digest(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8", errors="surrogatepass")).hexdigest()
