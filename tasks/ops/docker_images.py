"""Docker image operations through the tools door: build, inspect, import a base."""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from tasks.errors import StackError, ToolError
from tasks.ops.live import Facts
from tasks.output import console, progress
from tasks.programs import debootstrap, docker, tools
from tasks.store import images, state

# One listing per daemon per run serves every image's up-to-date check; builds forget it.
LISTINGS = Facts()
# The listing is also the preflight's "does the daemon answer?" (tasks/families/doctor.py):
# a daemon that hangs longer than this is reported as not reachable instead of waited for.
LISTING_TIMEOUT = 30.0


def present(docker_env: Mapping[str, str]) -> set[tuple[str, str]]:
    """(image ID, reference) pairs in the daemon: one call answers for every image."""
    key = repr(sorted(docker_env.items()))
    return LISTINGS.ask(key, functools.partial(docker.image_pairs, dict(docker_env), timeout=LISTING_TIMEOUT))


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


def build(
    name: str,
    *,
    dockerfile: str,
    context: str,
    args: Mapping[str, str],
    repo: str,
    iid: Path,
    ref: Path,
    docker_env: Mapping[str, str],
    stage: str | None = None,
    platform: str | None = None,
) -> str:
    """Build, tag with the content tag, and record ID and reference (only on success).
    `platform`: a foreign one (`linux/arm64`), built under emulation."""
    iid.parent.mkdir(parents=True, exist_ok=True)
    tmp = iid.with_suffix(".iid.tmp")  # `docker build` removes a stale one itself
    if not Path(dockerfile).is_file():
        # A database that builds from one of the tool's docker/<name> folders gets its copy
        # from `doit render` (tasks/render/build_copies.py): a run before it finds none.
        raise StackError(
            f"the Dockerfile of image {name}, {dockerfile}, does not exist",
            fix="run `doit render` (it copies the tool's docker/<name> build folders your databases "
            "name), or fix the build spec in environments/",
        )
    console.show(f"[{name}] docker build -f {dockerfile} {context}")
    step = log_step(name)
    try:
        docker.build(
            dockerfile,
            context,
            build_args=args,
            iidfile=tmp,
            prefix=step,
            env=docker_env,
            stage=stage,
            platform=platform,
        )
    except tools.DaemonDown:
        raise
    except ToolError as exc:
        raise build_failed(name, dockerfile, step, exc) from None
    LISTINGS.forget()
    image_id = tmp.read_text().strip()
    target = f"{repo}:{images.content_tag(image_id)}"
    docker.tag(image_id, target, docker_env)
    # The .ref is what downstream tasks read; write it last, atomically.
    state.write_atomic(iid, tmp.read_bytes())
    tmp.unlink()
    state.write_atomic(ref, target + "\n")
    state.record_built(target)
    console.show(f"[{name}] {target}")
    return target


def log_step(name: str) -> str:
    """The step name of an image's build: its log is .build/logs/build-<name>.log, never the
    log of a job or a push of the same name."""
    return f"build-{name}"


def build_failed(name: str, dockerfile: str, step: str, exc: ToolError) -> StackError:
    """The failing lines first: the tail of the build's own output (docker.build put it in
    the error), then where the whole output is."""
    return StackError(
        f"image {name} failed to build (exit {exc.code}) from {dockerfile}; the last "
        f"{docker.BUILD_TAIL} lines of its output (all of it in {progress.log_path(step)}):\n"
        + "\n".join("    " + line for line in exc.stderr.splitlines()),
        fix=exc.fix or f"fix the step that failed above ({dockerfile} or what it runs), then build again",
    )


def debootstrap_base(
    name: str,
    *,
    suite: str,
    repo: str,
    iid: Path,
    ref: Path,
    docker_env: Mapping[str, str],
    platform: str | None = None,
) -> str:
    """Make a base image with no registry: debootstrap a minimal root, then `docker import`.
    `platform`: a foreign one (`linux/arm64`): debootstrap's second stage runs emulated."""
    root = Path(tempfile.mkdtemp(prefix="stackbuild-rootfs-"))
    arch = images.arch(platform) if platform else None
    try:
        # Measured in docs/benchmarks.md ("Foreign platforms"): emulation makes it slower.
        took = f"{arch} under emulation, about 2 min" if arch else "about 30 s"
        console.show(f"[{name}] debootstrap --variant=minbase {suite} ({took})")
        # No mirror argument: debootstrap's own default, so nothing site-specific is written here.
        debootstrap.minbase(suite, root, prefix=log_step(name), arch=arch)
        if platform is None:
            imported = docker.import_root(root, f"{repo}:{suite}", docker_env)
        else:
            imported = docker.import_foreign_root(root, f"{repo}:{suite}-{arch}", platform, docker_env)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if not imported.startswith("sha256:"):
        raise StackError(f"docker import printed no image ID: {imported!r}")
    target = f"{repo}:{images.content_tag(imported)}"
    docker.tag(imported, target, docker_env)
    state.record_built(target)
    LISTINGS.forget()
    state.write_atomic(iid, imported + "\n")
    state.write_atomic(ref, target + "\n")
    return target
