"""Live sync (`services.<name>.sync`): copy edited files into the running containers instead
of building an image, then restart what must reload them.

The inner loop (`doit dev`) asks `plan` what a set of changed paths means: None when one of
them is outside every sync rule (the loop rebuilds instead), else, per service, which files go
where and which restart follows. `apply` carries a plan out: into every running container of
each service (Compose) or every running pod of its Deployment (Minikube), then the restart,
and records the sync in the inner loop's state (tasks/store/devstate.py), which is what makes
`compose_ps` and `minikube_status` show the service as "synced" instead of as its image.

The files a content tag is computed from (the build contexts) are only read, never changed
(a Compose copy is a tar stream made in memory; a Minikube copy comes from a staging folder
outside the project), so the next real build gives the tag a rebuild of the edited tree gives.

A sync's cost is mostly Docker's and the restarted process's: one `docker ps` for every
service of the plan (the containers, with their images), one `docker cp` per container
whatever the number of files, one `docker restart` for every container to restart. `apply`
can note when each step ended (`Marks`), which the inner loop writes to its log and
bench/devloop.py reads.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tarfile
import tempfile
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from tasks.errors import StackError, ToolError
from tasks.model import RESTART_CONTAINER, Config, Service, SyncRule
from tasks.ops.compose_stack import Stack
from tasks.programs import docker, kubectl
from tasks.store import devstate

# How long a restarted container gets between SIGTERM and SIGKILL: none. The new files are
# already in place and the process is restarted only to load them; a development container
# keeps no state worth a graceful stop (data lives in the databases' volumes), and a process
# that ignores SIGTERM (PID 1 without a handler does: the demo's, the guestbook's) would cost
# every cycle the whole grace (Docker's default: 10 s).
RESTART_GRACE = 0
# How many changed files a record keeps (what the status page and the loop's line show).
FIRST_FILES = 5

# When each step of a sync ended: (step, wall-clock seconds), in order.
Marks = list[tuple[str, float]]


def mark(marks: Marks | None, what: str) -> None:
    if marks is not None:
        marks.append((what, time.time()))


@dataclass(frozen=True)
class Copy:
    source: Path  # a file of the project
    target: str  # where it goes in the container
    file: str  # the file as the user knows it: relative to the project root


@dataclass(frozen=True)
class ServiceSync:
    """What one service gets: the files, and the restarts to run after (RESTART_CONTAINER or
    shell commands, each once, in rule order)."""

    name: str
    copies: tuple[Copy, ...]
    restarts: tuple[str, ...] = ()

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.file for c in self.copies))


@dataclass(frozen=True)
class SyncPlan:
    services: dict[str, ServiceSync] = field(default_factory=dict)


def rule_for(rules: tuple[SyncRule, ...], rel: PurePosixPath) -> SyncRule | None:
    """The most specific rule whose source is `rel` or a folder holding it."""
    fits = [r for r in rules if rel == PurePosixPath(r.source) or PurePosixPath(r.source) in rel.parents]
    return max(fits, key=lambda r: len(PurePosixPath(r.source).parts), default=None)


def target_of(rule: SyncRule, rel: PurePosixPath) -> str:
    inside = rel.relative_to(rule.source)
    return rule.target if not inside.parts else str(PurePosixPath(rule.target) / inside)


def _files(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(f for f in path.rglob("*") if f.is_file())


def plan(cfg: Config, changed: Collection[Path], *, root: Path | None = None) -> SyncPlan | None:
    """What syncing `changed` (paths in the project, absolute or relative to it) means, or None
    when a path is outside every sync rule, or is gone (a container's files belong to root, so
    its user cannot remove one: only a rebuild drops a deleted file)."""
    base = (root or Path.cwd()).resolve()
    copies: dict[str, list[Copy]] = {}
    restarts: dict[str, list[str]] = {}
    for path in changed:
        full = (base / path).resolve()
        if not full.is_relative_to(base) or not full.exists():
            return None
        matched = [(svc, rule) for svc in cfg.deployments() if (rule := _rule(svc, full, base))]
        if not matched:
            return None
        for svc, rule in matched:
            for f in _files(full):
                rel = PurePosixPath(f.relative_to(base).as_posix())
                copies.setdefault(svc.name, []).append(Copy(f, target_of(rule, rel), str(rel)))
            if rule.restart:
                restarts.setdefault(svc.name, []).append(rule.restart)
    return SyncPlan(
        {
            name: ServiceSync(name, tuple(dict.fromkeys(found)), tuple(dict.fromkeys(restarts.get(name, []))))
            for name, found in copies.items()
        }
    )


def _rule(svc: Service, full: Path, base: Path) -> SyncRule | None:
    return rule_for(svc.sync, PurePosixPath(full.relative_to(base).as_posix()))


def readable_mode(source: Path) -> int:
    """0644, or 0755 when executable: the container's user is not the file's owner there,
    whatever mode the checkout gave it."""
    return 0o755 if source.stat().st_mode & 0o111 else 0o644


def stage(copy: Copy, folder: Path) -> Path:
    """A copy of the file with its readable mode, for a program that copies from a path."""
    slot = folder / str(len(list(folder.iterdir())))
    slot.mkdir()
    staged = slot / PurePosixPath(copy.target).name
    shutil.copyfile(copy.source, staged)
    staged.chmod(readable_mode(copy.source))
    return staged


def archive(copies: tuple[Copy, ...]) -> bytes:
    """A tar of the copies at their absolute targets, owned by root with their readable mode.
    Files only, never their folders: a folder that exists keeps its owner and mode (one that
    is missing is made by the daemon, root's, 0755)."""
    buffer = io.BytesIO()
    now = time.time()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for copy in copies:
            data = copy.source.read_bytes()
            info = tarfile.TarInfo(copy.target.lstrip("/"))
            info.size, info.mode, info.mtime = len(data), readable_mode(copy.source), now
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def apply(cfg: Config, plan: SyncPlan, *, marks: Marks | None = None) -> None:
    """Copy, then restart, every service of the plan; record each as synced only when all of
    them succeeded. StackError (one sentence, and a fix) on the first failure. `marks` gets
    when each step ended."""
    if not plan.services:
        return
    if cfg.cloud is not None:
        raise StackError(
            f"live sync does not run on cloud environment {cfg.env!r}",
            fix=f"deploy a build instead: `doit cloud_deploy env={cfg.env}`",
        )
    if cfg.runtime == "compose":
        running = _compose(cfg, plan, marks)
    else:
        running = {}
        for name, what in plan.services.items():
            with tempfile.TemporaryDirectory(prefix="stackbuild-sync-") as folder:
                running[name] = _minikube(cfg, what, Path(folder), marks)
    at = time.time()
    for name, what in plan.services.items():
        devstate.update(cfg.env, name, synced_at=at, files=what.files[:FIRST_FILES], image=running[name])


@contextlib.contextmanager
def step(cfg: Config, name: str, doing: str) -> Iterator[None]:
    """A failed program call as one sentence: which service, what it was doing, why."""
    try:
        yield
    except ToolError as exc:
        lines = (exc.stderr or exc.stdout).strip().splitlines()
        why = f" ({lines[-1].strip()})" if lines else ""
        up = "compose_up" if cfg.runtime == "compose" else "minikube_up"
        raise StackError(
            f"live sync of {name!r} failed {doing}: exit {exc.code}{why}",
            fix=f"fix the cause and save again, or rebuild it: `doit {up} env={cfg.env}`; "
            "nothing was recorded as synced",
        ) from None


def _compose(cfg: Config, plan: SyncPlan, marks: Marks | None) -> dict[str, str]:
    """Into every running container of each service of the plan: one `docker ps` for all of
    them, one `docker cp` per container, then one `docker restart` for every container to
    restart; returns the image each service runs."""
    project = Stack(cfg).project
    running = docker.project_containers(project)
    for name in plan.services:
        if not running.get(name):
            raise StackError(
                f"live sync of {name!r} found no running container in Compose project {project}",
                fix=f"start it: `doit compose_up env={cfg.env}`",
            )
    mark(marks, "found")
    limit = float(cfg.timeouts["healthy"])
    for name, what in plan.services.items():
        files = ", ".join(what.files[:FIRST_FILES]) + (" ..." if len(what.files) > FIRST_FILES else "")
        data = archive(what.copies)
        for c in running[name]:
            with step(cfg, name, f"copying {files} into container {c.id[:12]}"):
                docker.copy_archive(c.id, data, timeout=limit)
    mark(marks, "copied")
    whole = [n for n, what in plan.services.items() if _restarts(what) == (RESTART_CONTAINER,)]
    if whole:
        doing = "restarting its containers" if len(whole) == 1 else "restarting their containers"
        with step(cfg, ", ".join(whole), doing):
            docker.restart([c.id for n in whole for c in running[n]], grace=RESTART_GRACE, timeout=limit)
    for name, what in plan.services.items():
        for restart in (r for r in _restarts(what) if r != RESTART_CONTAINER):
            for c in running[name]:
                with step(cfg, name, f"running `{restart}` in container {c.id[:12]}"):
                    docker.exec_in(c.id, restart, timeout=limit)
    mark(marks, "restarted")
    return {name: running[name][0].image for name in plan.services}


def _restarts(what: ServiceSync) -> tuple[str, ...]:
    """A container restart makes every process start again: the commands would be moot."""
    return (RESTART_CONTAINER,) if RESTART_CONTAINER in what.restarts else what.restarts


def _minikube(cfg: Config, what: ServiceSync, folder: Path, marks: Marks | None) -> str:
    """Into every running pod of the service's Deployment; returns the image they run."""
    scope = kubectl.Scope(cfg.minikube.profile, cfg.namespace)
    pods = [p for p in kubectl.pods(scope, f"app.kubernetes.io/name={what.name}") if _running(p)]
    if not pods:
        raise StackError(
            f"live sync of {what.name!r} found no running pod of Deployment {what.name} "
            f"(Minikube profile {cfg.minikube.profile}, namespace {cfg.namespace})",
            fix=f"deploy it: `doit minikube_up env={cfg.env}`",
        )
    mark(marks, "found")
    limit = float(cfg.timeouts["healthy"])
    names = [p["metadata"]["name"] for p in pods]
    for copy in what.copies:
        staged = stage(copy, folder)
        for pod in names:
            with step(cfg, what.name, f"copying {copy.file} into pod {pod}"):
                kubectl.copy_into(scope, pod, what.name, str(staged), copy.target, timeout=limit)
    mark(marks, "copied")
    for restart in _restarts(what):  # never RESTART_CONTAINER: rules.sync refuses it on Kubernetes
        for pod in names:
            with step(cfg, what.name, f"running `{restart}` in pod {pod}"):
                kubectl.exec_in(scope, pod, what.name, restart, timeout=limit)
    mark(marks, "restarted")
    return _pod_image(pods[0], what.name)


def _running(pod: kubectl.Doc) -> bool:
    owners = [o.get("kind") for o in pod.get("metadata", {}).get("ownerReferences", [])]
    return (
        pod.get("status", {}).get("phase") == "Running"
        and "ReplicaSet" in owners
        and not pod.get("metadata", {}).get("deletionTimestamp")
    )


def _pod_image(pod: kubectl.Doc, container: str) -> str:
    for c in pod.get("spec", {}).get("containers", []):
        if c.get("name") == container:
            return str(c.get("image", ""))
    return ""
