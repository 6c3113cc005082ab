"""The release record of a cloud environment: `deploy/<env>/release.yaml`, committed.

Each image the environment's cluster runs, by registry digest, with the commit it was built
from. `doit push:<env>` writes it from what the registry holds (digests read back from the
registry, never from the local daemon); `doit promote` copies one environment's record into
another's; `doit deploy:<env>` applies exactly what it says. `git log` of the file is the
deployment history, and a review of its diff is a review of what will run.

A record is edited by people (a revert, a hand pin), so reading it is strict: every mistake
is a ConfigError naming the file, key, line and fix.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from tasks.config.yamlpos import Located, load_yaml
from tasks.errors import ConfigError, StackError
from tasks.programs import skopeo
from tasks.store import atomic

FOLDER = Path("deploy")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
COMMIT = re.compile(r"^([0-9a-f]{7,64}(-dirty)?|unknown)$")
IMAGE_KEYS = ("repository", "digest", "commit")
TOP_KEYS = ("env", "images")


@dataclass(frozen=True)
class Image:
    repository: str  # <registry>/<repo>, no tag
    digest: str  # sha256:<64 hex>, of the manifest (or manifest list) the registry serves
    commit: str  # the commit the image was built from

    @property
    def reference(self) -> str:
        return f"{self.repository}@{self.digest}"


@dataclass(frozen=True)
class Record:
    env: str
    images: dict[str, Image]

    def refs(self, registry: str) -> dict[str, str]:
        """name -> `<repo>@<digest>` without the registry, as the deploy engine pins them
        (it prefixes the environment's registry)."""
        prefix = registry.rstrip("/") + "/"
        return {n: img.reference.removeprefix(prefix) for n, img in self.images.items()}


def path(env: str, root: Path | None = None) -> Path:
    return (root or Path()) / FOLDER / env / "release.yaml"


def _bad(loc: Located, key: tuple[str | int, ...], problem: str, fix: str) -> ConfigError:
    dotted = ".".join(str(k) for k in key)
    filled = fix.format(file=loc.file, env=Path(loc.file).parent.name) if fix is _REWRITE else fix
    return ConfigError(loc.file, dotted, loc.line(key), problem, fix=filled)


def read(env: str, root: Path | None = None) -> Record | None:
    """The committed record of `env`; None when there is none. A malformed one raises."""
    file = path(env, root)
    if not file.exists():
        return None
    loc = load_yaml(file, path(env).as_posix())
    data = loc.data
    if not data:  # (an empty file parses as {})
        raise _bad(loc, (), "the file is empty", _REWRITE)
    if not isinstance(data, dict):
        raise _bad(loc, (), "a release record is a mapping with `env` and `images`", _REWRITE)
    unknown = sorted(str(k) for k in data if k not in TOP_KEYS)
    if unknown:
        close = difflib.get_close_matches(unknown[0], TOP_KEYS, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise _bad(
            loc, (unknown[0],), f"unknown key {unknown[0]!r}", f"{hint}keep only {', '.join(TOP_KEYS)}"
        )
    if data.get("env") != env:
        raise _bad(
            loc, ("env",), f"`env` must be {env!r}, the folder's name, not {data.get('env')!r}", _REWRITE
        )
    images = data.get("images")
    if not isinstance(images, dict) or not images:
        raise _bad(loc, ("images",), "`images` must map each image name to its digest and commit", _REWRITE)
    return Record(env, {str(name): _image(loc, str(name), spec) for name, spec in images.items()})


# Filled in by `_bad` with the record's file and environment. "delete it": a push stops at a
# malformed record (so as not to overwrite a hand edit unseen); a promote overwrites it itself.
_REWRITE = (
    "restore it with `git checkout -- {file}`, or delete it and write it again "
    "(`doit push:{env}`, or `doit promote from=<env> to={env}`)"
)


def _image(loc: Located, name: str, spec: object) -> Image:
    key = ("images", name)
    if not isinstance(spec, dict):
        raise _bad(loc, key, "each image is a mapping of repository, digest and commit", _REWRITE)
    extra = sorted(set(spec) - set(IMAGE_KEYS))
    if extra:
        raise _bad(loc, (*key, extra[0]), f"unknown key {extra[0]!r}", f"keep only {', '.join(IMAGE_KEYS)}")
    for field in IMAGE_KEYS:
        if field not in spec:
            raise _bad(loc, key, f"`{field}` is missing", _REWRITE)
        if not isinstance(spec[field], str) or not spec[field]:
            raise _bad(loc, (*key, field), f"`{field}` is not text", 'quote it: `commit: "0123abc..."`')
    repo, digest, commit = (str(spec[f]) for f in IMAGE_KEYS)
    if "@" in repo or ":" in repo.split("/")[-1]:
        raise _bad(loc, (*key, "repository"), f"{repo!r} has a tag or digest", "write the repository alone")
    if not DIGEST.match(digest):
        raise _bad(
            loc,
            (*key, "digest"),
            f"{digest!r} is not a digest",
            "write sha256: followed by 64 lowercase hex digits",
        )
    if not COMMIT.match(commit):
        raise _bad(loc, (*key, "commit"), f"{commit!r} is not a commit id", "write the full commit id")
    return Image(repo, digest, commit)


def text(record: Record) -> str:
    """The record as committed: a header that says what it is, then sorted names."""
    env = record.env
    lines = [
        f"# The release of {env}: what `doit deploy:{env}` applies, each image by registry digest,",
        "# with the commit it was built from. Written by `doit push` and `doit promote`; review it",
        f"# like code. `git log {path(env).as_posix()}` is the deployment history.",
        f"env: {env}",
        "images:",
    ]
    for name, img in sorted(record.images.items()):
        lines += [
            f"  {name}:",
            f"    repository: {img.repository}",
            f"    digest: {img.digest}",
            f'    commit: "{img.commit}"',  # quoted: an all-digit id would read as a number
        ]
    return "\n".join(lines) + "\n"


def kustomization_path(env: str, root: Path | None = None) -> Path:
    return (root or Path()) / FOLDER / env / "kustomization.yaml"


def kustomization(record: Record) -> str:
    """The record as kustomize reads it: the environment's overlay with each image pinned by
    digest. Argo CD syncs this folder in argocd mode (docs/cloud.md, "Argo CD"); the kubectl
    path pins the same digests in .build/ at deploy time."""
    env = record.env
    lines = [
        f"# {path(env).as_posix()} as kustomize reads it: k8s/overlays/{env} with each image pinned",
        "# by digest. Written with the record by `doit push` and `doit promote`; do not edit.",
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "resources:",
        f"  - ../../k8s/overlays/{env}",
        "images:",
    ]
    for _, img in sorted(record.images.items()):
        lines += [f"  - name: {img.repository}", f"    digest: {img.digest}"]
    return "\n".join(lines) + "\n"


def write(record: Record, root: Path | None = None) -> bool:
    """Write the record atomically, with its kustomization beside it; only when they change
    (returns whether the record did)."""
    file = path(record.env, root)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(kustomization_path(record.env, root), kustomization(record))
        return atomic.write_text(file, text(record))
    except OSError as exc:  # `deploy/<env>` is a file, a folder is read-only, the disk is full
        shown = path(record.env).as_posix()
        raise StackError(
            f"cannot write the release record {shown}: {exc.strerror or exc}",
            fix=f"make {(FOLDER / record.env).as_posix()}/ a writable folder (move aside what is in its way),"
            " then run again",
        ) from None


def required(env: str, *, how: str) -> Record:
    """The record of `env`, or a StackError saying how one is made."""
    got = read(env)
    if got is None:
        raise StackError(f"{env} has no release record ({path(env).as_posix()} is missing)", fix=how)
    return got


def how(env: str) -> str:
    return f"run `doit push:{env}` (or `doit promote from=<env> to={env}`) and commit {path(env).as_posix()}"


def pinned(env: str, registry: str, names: list[str]) -> dict[str, str]:
    """name -> `<repo>@<digest>` of every image the cluster runs, as the record says; refused
    (before anything is applied) when the record lacks one, or the registry lacks a digest."""
    record = required(env, how=how(env))
    where = path(env).as_posix()
    absent = [n for n in names if n not in record.images]
    if absent:
        raise StackError(f"{where} names no image for {', '.join(absent)}", fix=how(env))
    prefix = registry.rstrip("/") + "/"
    foreign = sorted(n for n in names if not record.images[n].repository.startswith(prefix))
    if foreign:
        raise StackError(
            f"{where}: {', '.join(foreign)} not in {env}'s registry {registry} "
            f"({record.images[foreign[0]].repository})",
            fix=f"promote into {env} (`doit promote from=<env> to={env}`), which copies the images",
        )
    lacking = [record.images[n].reference for n in names if skopeo.digest(record.images[n].reference) is None]
    if lacking:
        raise StackError(
            f"the registry lacks {len(lacking)} image(s) {where} names: "
            f"{', '.join(lacking)}; nothing was applied",
            fix=f"push or promote them again (`doit push:{env}` or `doit promote from=<env> to={env}`), "
            f"or revert {where} to a release the registry holds",
        )
    return {n: ref for n, ref in record.refs(registry).items() if n in names}


def recorded(env: str, registry: str) -> dict[str, str]:
    """What the record pins, for status rows; {} when there is no readable record (never raises)."""
    try:
        record = read(env)
    except StackError:
        return {}
    return record.refs(registry) if record else {}
