"""An overlay built in slices, each slice's output kept by the content of its inputs, so a
change rebuilds the slices it touches (tasks/ops/kustomize_plan.py says how an overlay splits,
or that it must be built whole).

The joined slices are the whole build's documents in another order (slice by slice; deploy
puts them back in kustomize's, tasks/ops/kustomize_order.py). Validation builds the overlay;
deploy builds it with its images pinned (`pins`: the `images:` entries of the kustomization it
writes around the overlay), each slice wrapped the same way with the entries its files name.
A slice that fails to build sends the overlay to the whole build, so the error a user reads is
the one `kubectl kustomize <overlay>` gives.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tasks.errors import StackError
from tasks.ops import kustomize_plan, kyaml
from tasks.output import console
from tasks.programs import kubectl
from tasks.store import slices

# The wrapped overlay's folder inside a pinned slice.
INNER = "overlay"


@dataclass(frozen=True)
class Built:
    """The built documents, and how: `slices` 0 means the whole overlay in one build."""

    text: str
    slices: int = 0
    rebuilt: int = 0
    why_whole: str = ""


def key(files: dict[str, bytes], identity: str) -> str:
    """What a slice's output depends on: every file of its folder and kustomize itself."""
    digest = hashlib.sha256(identity.encode() + b"\0")
    for path in sorted(files):
        data = files[path]
        digest.update(f"{path}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()


def build(
    overlay: str,
    env: str,
    *,
    size: int = kustomize_plan.SLICE_SIZE,
    pins: list[dict[str, Any]] | None = None,
    whole: str | None = None,
) -> Built:
    """The documents `kubectl kustomize overlay` builds, built in slices of about `size`
    groups of resources (tasks/ops/kustomize_plan.py) when that is safe. With `pins`, what
    `whole` (a kustomization of the overlay and those `images:` entries) builds."""
    whole = whole or overlay
    scope = "pinned" if pins is not None else ""
    try:
        plan = kustomize_plan.plan(Path(overlay), size=size)
    except kustomize_plan.Whole as why:
        return Built(kubectl.kustomize(whole), why_whole=str(why))
    if not plan.slices:  # nothing to slice: whatever the whole build says is the answer
        return Built(kubectl.kustomize(whole), why_whole=f"{overlay} has no resources")
    parts = plan.slices if pins is None else [pinned(files, pins) for files in plan.slices]
    identity = kubectl.kustomize_identity()
    keys = [key(files, identity) for files in parts]
    outputs = {k: text for k in set(keys) if (text := slices.read(env, k, scope)) is not None}
    todo = [(k, files) for k, files in zip(keys, parts, strict=True) if k not in outputs]
    if todo:
        try:
            outputs.update(_build_slices(env, todo, scope))
        except StackError:
            # The whole build fails with its own message (file and fix) or, if slicing was
            # wrong about this overlay, succeeds: either way the whole build is the answer.
            return Built(kubectl.kustomize(whole), why_whole="a slice did not build")
        except OSError as exc:
            # The slices' folder cannot be written (a file in its place, a full or read-only
            # disk): slicing is only a speed-up, so the whole build is the answer.
            folder = slices.folder(env, scope).as_posix()
            console.note(f"{folder} cannot be written ({exc}): built whole (slower); delete {folder}")
            return Built(kubectl.kustomize(whole), why_whole=f"the slices cannot be built ({exc})")
    slices.keep_only(env, keys, scope)
    text = "---\n".join(body + "\n" for k in keys if (body := outputs[k].strip("\n")))
    return Built(text, slices=len(keys), rebuilt=len(todo))


def pinned(files: dict[str, bytes], pins: list[dict[str, Any]]) -> dict[str, bytes]:
    """One slice's files wrapped as deploy wraps the overlay: the slice in `overlay/`, under a
    kustomization of it and the pins of the images it runs, so a new tag of one image rebuilds
    the slices that run it and no other."""
    used = images_in(b"\n".join([*files.values(), _inline_patches(files)]))
    mine = [pin for pin in pins if not isinstance(pin.get("name"), str) or pin["name"] in used]
    top = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [INNER],
        "images": mine,
    }
    wrapped = {f"{INNER}/{path}": data for path, data in files.items()}
    wrapped[kustomize_plan.KUSTOMIZATION] = kyaml.dump(top).encode()
    return wrapped


def _inline_patches(files: dict[str, bytes]) -> bytes:
    """The inline patches of a slice's kustomizations, as their text: a patch is a string, which
    YAML may fold or escape (`value:\\` then `\\ app` on the next line) out of the pattern's sight."""
    texts: list[str] = []
    for path, data in files.items():
        if path.rsplit("/", 1)[-1] not in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
            continue
        try:
            doc = yaml.safe_load(data)
        except yaml.YAMLError:  # kustomize says what is wrong with it
            continue
        patches = doc.get("patches") if isinstance(doc, dict) else None
        texts += [str(p["patch"]) for p in patches or [] if isinstance(p, dict) and "patch" in p]
    return "\n".join(texts).encode()


# An `image:` field (kustomize's images transformer changes those alone), or an overlay's
# `newName:` (a cloud overlay renames repo to <registry>/repo; deploy pins that name too), in
# any spelling YAML allows: a quoted key (`"image": "app"`, JSON), the value on the next line,
# a tag (`!!str app`) or a block scalar (`>-`); and every `value:` (a JSON patch's, which may
# set an image). A name too many only keeps a pin that changes nothing.
_IMAGE = re.compile(
    rb"""\b(?:image|newName|value)["']?[ \t]*:\s*(?:![^\s]*\s+)?(?:[|>][-+0-9]*\s+)?["']?([^\s"'#,}\]]+)"""
)


def images_in(text: bytes) -> set[str]:
    """The image names (without tag or digest) a slice's files run or rename to."""
    out: set[str] = set()
    for match in _IMAGE.finditer(text):
        ref = match.group(1).decode("utf-8", "replace").split("@", 1)[0]
        head, _, last = ref.rpartition("/")
        out.add(f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0])
    return out


def _build_slices(env: str, todo: list[tuple[str, dict[str, bytes]]], scope: str) -> dict[str, str]:
    work = slices.scratch(env, scope)
    built: dict[str, str] = {}
    try:
        for i, (k, files) in enumerate(todo):
            folder = work / str(i)
            for path, data in files.items():
                target = folder / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            built[k] = kubectl.kustomize(str(folder))
            slices.write(env, k, built[k], scope)  # False: the next run builds it again
    finally:
        slices.clear_scratch(env, scope)
    return built
