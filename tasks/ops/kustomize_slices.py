"""An overlay built in slices for validation, each slice's output kept by the content of its
inputs, so a change rebuilds the slices it touches (tasks/ops/kustomize_plan.py says how an
overlay splits, or that it must be built whole).

The joined slices are the whole build's documents in another order (slice by slice). Deploy
never uses this: it applies the whole build. A slice that fails to build sends the overlay to
the whole build, so the error a user reads is the one `kubectl kustomize <overlay>` gives.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from tasks.errors import StackError
from tasks.ops import kustomize_plan
from tasks.output import console
from tasks.programs import kubectl
from tasks.store import slices, state


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


def build(overlay: str, env: str, *, size: int = kustomize_plan.SLICE_SIZE) -> Built:
    """The documents `kubectl kustomize overlay` builds, built in slices of about `size`
    groups of resources (tasks/ops/kustomize_plan.py) when that is safe."""
    try:
        plan = kustomize_plan.plan(Path(overlay), size=size)
    except kustomize_plan.Whole as why:
        return Built(kubectl.kustomize(overlay), why_whole=str(why))
    if not plan.slices:  # nothing to slice: whatever the whole build says is the answer
        return Built(kubectl.kustomize(overlay), why_whole=f"{overlay} has no resources")
    identity = kubectl.kustomize_identity()
    keys = [key(files, identity) for files in plan.slices]
    outputs = {k: text for k in set(keys) if (text := slices.read(env, k)) is not None}
    todo = [(k, files) for k, files in zip(keys, plan.slices, strict=True) if k not in outputs]
    if todo:
        try:
            outputs.update(_build_slices(env, todo))
        except StackError:
            # The whole build fails with its own message (file and fix) or, if slicing was
            # wrong about this overlay, succeeds: either way the whole build is the answer.
            return Built(kubectl.kustomize(overlay), why_whole="a slice did not build")
        except OSError as exc:
            # The slices' folder cannot be written (a file in its place, a full or read-only
            # disk): slicing is only a speed-up, so the whole build is the answer.
            folder = state.kustomize_slices(env).as_posix()
            console.note(f"{folder} cannot be written ({exc}): built whole (slower); delete {folder}")
            return Built(kubectl.kustomize(overlay), why_whole=f"the slices cannot be built ({exc})")
    slices.keep_only(env, keys)
    text = "---\n".join(body + "\n" for k in keys if (body := outputs[k].strip("\n")))
    return Built(text, slices=len(keys), rebuilt=len(todo))


def _build_slices(env: str, todo: list[tuple[str, dict[str, bytes]]]) -> dict[str, str]:
    work = slices.scratch(env)
    built: dict[str, str] = {}
    try:
        for i, (k, files) in enumerate(todo):
            folder = work / str(i)
            for path, data in files.items():
                target = folder / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            built[k] = kubectl.kustomize(str(folder))
            slices.write(env, k, built[k])  # False: the next run builds it again
    finally:
        slices.clear_scratch(env)
    return built
