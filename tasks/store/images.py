"""Where built images are recorded, and how their content tags are derived.

Contract for every later stage (compose, minikube, push, deploy):
  .build/<env>/<basename>/<name>.iid  the image ID from `docker build --iidfile`
  .build/<env>/<basename>/<name>.ref  the content-addressed reference, e.g. srvthreds/engine:1a2b3c4d5e6f
Put the .ref (or .iid) file in `file_dep` downstream (md5 checking): it changes
exactly when the image's content changes. `basename` is "images" for the local
daemon; other daemons (Minikube's) get their own folder.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.store import state

if TYPE_CHECKING:
    from tasks.model import Config

TAG_LENGTH = 12


def arch(platform: str) -> str:
    """`linux/arm64` -> `arm64`: Debian's architecture name, and the suffix of a foreign
    platform's image tasks (`images:api@arm64`) and record folder (`images-arm64`)."""
    return platform.rpartition("/")[2]


def folder(basename: str, platform: str | None) -> str:
    """Where one platform's images are recorded: a foreign platform's (`linux/arm64`) apart from
    the host's, in .build/<env>/<basename>-arm64/, under the same names."""
    return basename if platform is None else f"{basename}-{arch(platform)}"


def platform_ref(env: str, name: str, platform: str, host: str) -> Path:
    """The .ref of one image built for `platform` by the local daemon: the host's own record
    when it is the host's platform, else the foreign platform's folder."""
    return ref_file(env, name, folder("images", None if platform == host else platform))


def list_tag(tags: dict[str, str]) -> str:
    """The content tag of a manifest list, from its platforms' image references: the same
    images make the same tag, so a list already in the registry is never pushed again."""
    lines = "".join(f"{platform}={ref}\n" for platform, ref in sorted(tags.items()))
    return "list-" + hashlib.sha256(lines.encode()).hexdigest()[:TAG_LENGTH]


def state_dir(env: str, basename: str = "images") -> Path:
    return state.images_dir(env, basename)


def iid_file(env: str, name: str, basename: str = "images") -> Path:
    return state_dir(env, basename) / f"{name}.iid"


def ref_file(env: str, name: str, basename: str = "images") -> Path:
    return state_dir(env, basename) / f"{name}.ref"


def context_stamp(env: str, folder: str, basename: str = "images") -> Path:
    """The stamp of one build context: the SHA-256 of its files (tasks/families/shared/
    image_builds.py), named by the folder's own hash (a path may hold any character)."""
    name = hashlib.sha256(folder.encode()).hexdigest()[:TAG_LENGTH]
    return state_dir(env, basename) / f"context-{name}.sha256"


def context_digest(folder: str, files: list[str]) -> str:
    """What a build context holds: each file's path and bytes. Its stamp changes exactly when
    a file of it does, so an image that lists the stamp is built again then, and only then."""
    digest = hashlib.sha256(f"{folder}\n".encode())
    for rel in sorted(files):
        data = Path(rel).read_bytes()
        digest.update(f"{rel}\0{len(data)}\0".encode() + data)
    return f"{digest.hexdigest()}  {folder}\n"


_DIGESTS: dict[str, str] = {}


def current_digest(folder: str, files: list[str]) -> str:
    """context_digest of the folder as it is, worked out once per run: every image built from
    the folder asks (tasks/cli/start.py forgets at each run's start)."""
    if folder not in _DIGESTS:
        _DIGESTS[folder] = context_digest(folder, files)
    return _DIGESTS[folder]


def forget_digests() -> None:
    _DIGESTS.clear()


def content_tag(image_id: str) -> str:
    """The tag is the image ID itself (shortened): same content, same tag, by construction."""
    return image_id.strip().removeprefix("sha256:")[:TAG_LENGTH]


def refs(env: str, names: list[str], basename: str = "images") -> dict[str, str]:
    """name -> recorded reference, for every name that has been built."""
    out = {}
    for name in names:
        path = ref_file(env, name, basename)
        if path.exists():
            out[name] = path.read_text().strip()
    return out


def pushed(cfg: Config) -> dict[str, str]:
    """name -> repository of every image a cloud cluster runs, hence pushed and given an ECR
    repository (`Config.cluster_images`: never the builder or a debootstrapped base)."""
    return {
        name: cfg.image_ref(name) if name in cfg.services else cfg.databases[name].image
        for name in cfg.cluster_images()
    }


def image_var(name: str) -> str:
    """Variable through which `doit compose_up` passes a built image's content tag (the
    Compose files render it; tasks/ops/compose.py sets it)."""
    return name.upper().replace("-", "_") + "_IMAGE"
