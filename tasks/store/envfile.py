"""The one reader (and writer) of the git-ignored `compose/<env>/.env` secret files.

Values are read as Docker Compose reads them (tasks/store/envsyntax.py: its grammar, held to the
real `docker-compose config` by tests/unit/store/test_envsyntax.py), so the Compose databases,
the Kubernetes Secret and the masking of `compose_config` all see the same password. Compose
lets the environment it runs in override the file; so does `read`.

The file must be a regular file of the project: the tool checks its mode and adds missing
secrets to it, and through a symbolic link both would act on a file somewhere else.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from tasks import defaults
from tasks.errors import StackError
from tasks.store import envsyntax

# Values shipped in compose/*/.env.example: fine for a laptop's `local`, never elsewhere.
PLACEHOLDERS = frozenset({"change-me", "changeme"})
LOCAL_ENV = defaults.LOCAL
# Compose drops names that start with a digit (no file can refer to them).
DIGIT_FIRST = re.compile(r"^\s*\d")
SYNTAX_HELP = (
    "https://docs.docker.com/compose/how-tos/environment-variables/variable-interpolation/#env-file-syntax"
)


def check_file(path: Path) -> bool:
    """Whether `path` exists; a symbolic link or anything but a regular file is refused (a FIFO
    would hang the reader, a link would make the tool check and extend another file)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(info.st_mode):
        new = f"{path}.new"
        raise StackError(
            f"{path} is a symbolic link (to {path.readlink()}): the tool checks this file's mode "
            "and adds missing secrets to it, so it must be a regular file of the project",
            fix=f"replace the link by a private copy of what it points to: "
            f"`(umask 077 && cp {path} {new}) && mv {new} {path}`",
        )
    if not stat.S_ISREG(info.st_mode):
        raise StackError(
            f"{path} is not a regular file",
            fix=f"remove it (`doit compose_up` creates {path} with random values), or put the secrets "
            "file itself there",
        )
    return True


def entries(path: Path, environ: Mapping[str, str] | None = None) -> list[envsyntax.Entry]:
    """Every statement of the file as Compose reads it, in order; a missing file has none."""
    if not check_file(path):
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise StackError(
            f"{path} is not UTF-8 text (byte {exc.object[exc.start]:#x})",
            fix=f"save {path} as UTF-8",
        ) from None
    try:
        return envsyntax.parse(text, os.environ if environ is None else environ)
    except envsyntax.EnvSyntaxError as exc:
        raise StackError(
            f"{path}, line {exc.line}: {exc.problem}",
            fix=f"correct that line in Compose's .env syntax ({SYNTAX_HELP})",
        ) from None


def read(path: Path, *, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """KEY -> value, as `docker compose --env-file` sees it: a later line wins, and a variable
    set in `environ` (default: this process's environment) wins over the file. Missing file: {}."""
    env = os.environ if environ is None else environ
    values = {e.key: e.value for e in entries(path, env) if not DIGIT_FIRST.match(e.key)}
    return {key: env.get(key, value) for key, value in values.items()}


def names(path: Path) -> set[str]:
    """The names the file sets (whatever the environment says about their values)."""
    return set(read(path))


def check_private(path: Path) -> None:
    """A secret file readable by group or others is refused (never silently used or extended)."""
    if not check_file(path):
        return
    mode = stat.S_IMODE(path.lstat().st_mode)
    if mode & 0o077:
        raise StackError(
            f"{path} holds secrets but is readable by others (mode {mode:o})",
            fix=f"run `chmod 600 {path}` (and rotate the secrets if others may have read them)",
        )


def check_values(path: Path, env: str, names: Iterable[str], values: dict[str, str]) -> None:
    """An empty secret is refused; placeholders from .env.example are accepted in `local` only."""
    wanted = list(names)
    if empty := [n for n in wanted if values.get(n) == ""]:
        raise StackError(
            f"{path}: {', '.join(empty)} {'is' if len(empty) == 1 else 'are'} set but empty",
            fix=f"set a value, or delete the line from {path} to get a random one",
        )
    if env == LOCAL_ENV:
        return
    bad = sorted(n for n in wanted if values.get(n, "").lower() in PLACEHOLDERS)
    if bad:
        raise StackError(
            f"{path}: {', '.join(bad)} still hold the placeholder {values[bad[0]]!r} (environment {env})",
            fix=f"delete these lines from {path} to get random values, or set real ones",
        )


def read_secrets(path: Path, env: str, names: Iterable[str]) -> dict[str, str]:
    """`read`, after refusing a link, a group/world-readable file, an empty secret and, outside
    `local`, placeholders."""
    check_private(path)
    values = read(path)
    check_values(path, env, list(names), values)
    return values


def create(path: Path, header: str, values: Mapping[str, str]) -> None:
    """A new secrets file, mode 600 from its first byte; never over a file that appeared meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(header)
        handle.writelines(f"{name}={value}\n" for name, value in values.items())


def append(path: Path, values: Mapping[str, str]) -> None:
    """Add `NAME=value` lines after the existing bytes, which stay as they are. A file whose last
    line has no line break gets one first: the new line would otherwise extend that value.

    `values` must need no quoting (the tool's random values are URL-safe)."""
    check_file(path)
    ends_open = False
    with path.open("rb") as handle:
        if handle.seek(0, os.SEEK_END) > 0:
            handle.seek(-1, os.SEEK_END)
            ends_open = handle.read(1) != b"\n"
    lines = "".join(f"{name}={value}\n" for name, value in values.items())
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(("\n" if ends_open else "") + lines)
