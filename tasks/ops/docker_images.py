"""Docker image operations through the tools door: build, inspect, import a base."""
from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from tasks import images, state, tools
from tasks.errors import StackError


def present(docker_env: Mapping[str, str]) -> set[tuple[str, str]]:
    """(image ID, reference) pairs in the daemon: one call answers for every image."""
    return _present(tuple(sorted(docker_env.items())))


@functools.lru_cache(maxsize=8)
def _present(docker_env: tuple[tuple[str, str], ...]) -> set[tuple[str, str]]:
    # One listing per run serves every image's up-to-date check; builds clear it.
    out = tools.run("docker", "image", "ls", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}",
                    env=dict(docker_env)).stdout
    return {tuple(line.split(" ", 1)) for line in out.splitlines() if " " in line}  # type: ignore[misc]


def is_current(iid: Path, ref: Path, docker_env: Mapping[str, str]) -> bool:
    """True when we built this image before AND the daemon still has it under its tag.

    Runs as a doit `uptodate` check, outside any action: an exception here would be a
    traceback. A daemon that cannot answer means "not current": the build action then
    runs and fails with the one clean sentence (tools.DaemonDown).
    """
    if not (iid.exists() and ref.exists()):
        return False
    try:
        listing = present(docker_env)
    except StackError:
        return False
    return (iid.read_text().strip(), ref.read_text().strip()) in listing


def build(name: str, *, dockerfile: str, context: str, args: Mapping[str, str], repo: str,
          iid: Path, ref: Path, docker_env: Mapping[str, str], stage: str | None = None) -> str:
    """Build, tag with the content tag, and record ID and reference (only on success)."""
    iid.parent.mkdir(parents=True, exist_ok=True)
    tmp = iid.with_suffix(".iid.tmp")
    tmp.unlink(missing_ok=True)
    flags = [f for key, value in sorted(args.items()) for f in ("--build-arg", f"{key}={value}")]
    print(f"[{name}] docker build -f {dockerfile} {context}", flush=True)
    # `stage`: the build spec's `target` (a multi-stage Dockerfile's stage to stop at).
    until = ["--target", stage] if stage else []
    tools.run("docker", "build", "-f", dockerfile, *until, *flags, "--iidfile", str(tmp), context,
              prefix=name, env=docker_env)
    _present.cache_clear()
    image_id = tmp.read_text().strip()
    target = f"{repo}:{images.content_tag(image_id)}"
    tools.run("docker", "tag", image_id, target, env=docker_env)
    # The .ref is what downstream tasks read; write it last, atomically.
    ref_tmp = ref.with_suffix(".ref.tmp")
    ref_tmp.write_text(target + "\n")
    tmp.replace(iid)
    ref_tmp.replace(ref)
    state.record_built(target)
    print(f"[{name}] {target}", flush=True)
    return target


def debootstrap_base(name: str, *, suite: str, repo: str, iid: Path, ref: Path,
                     docker_env: Mapping[str, str]) -> str:
    """Make a base image with no registry: debootstrap a minimal root, then `docker import`."""
    tools.require("debootstrap")
    root = Path(tempfile.mkdtemp(prefix="stackbuild-rootfs-"))
    try:
        print(f"[{name}] debootstrap --variant=minbase {suite} (about 30 s)", flush=True)
        # No mirror argument: debootstrap's own default, so nothing site-specific is written here.
        tools.run("debootstrap", "--variant=minbase", suite, str(root), prefix=name)
        imported = tools.run("sh", "-c", 'tar -C "$1" -c . | docker import - "$2"', "sh", str(root),
                             f"{repo}:{suite}", env=docker_env).stdout.strip()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if not imported.startswith("sha256:"):
        raise StackError(f"docker import printed no image ID: {imported!r}")
    target = f"{repo}:{images.content_tag(imported)}"
    tools.run("docker", "tag", imported, target, env=docker_env)
    state.record_built(target)
    _present.cache_clear()
    iid.parent.mkdir(parents=True, exist_ok=True)
    iid.write_text(imported + "\n")
    ref.write_text(target + "\n")
    return target
