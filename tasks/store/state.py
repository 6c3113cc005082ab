"""The one owner of build state on disk: `.build/` paths, atomic writes, the run lock,
and the safety of doit's own dependency database.

Everything that is not source lives under `.build/` (git-ignored); deleting it is
always safe, the next run rebuilds what is needed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# Relative: doit runs every task creator and action in the project root.
BUILD = Path(".build")


def dep_file(env: str) -> Path:
    """doit's database for one environment: switching environments never invalidates another."""
    return BUILD / "state" / f"{env}.json"


def built_log() -> Path:
    """Every image reference this checkout has built (one per line): what images_prune may remove."""
    return BUILD / "built.txt"


def record_built(ref: str) -> None:
    # O_APPEND: one short line per write, so concurrent appends never interleave.
    BUILD.mkdir(exist_ok=True)  # one folder below the project root: no parents to make
    with built_log().open("a", encoding="utf-8") as handle:
        handle.write(ref + "\n")


def built_refs() -> set[str]:
    try:
        return set(built_log().read_text(encoding="utf-8").split())
    except FileNotFoundError:
        return set()


def lock_file() -> Path:
    return BUILD / "run.lock"


def logs_dir() -> Path:
    return BUILD / "logs"


def manifests(env: str) -> Path:
    """The overlay as `validate` built and checked it (read by checkov)."""
    return BUILD / "manifests" / f"{env}.yaml"


def k8s_validated(env: str | None = None) -> Path:
    """The content hashes of the documents of env's overlay that its checks passed, newest
    first (tasks/store/passed.py; the folder of every environment's, when env is None)."""
    folder = BUILD / "k8s-validated"
    return folder if env is None else folder / f"{env}.txt"


# Per environment: .build/<env>/<part>/. Every state folder is named here, nowhere else.


@functools.lru_cache(maxsize=256)  # a relative path: the same in every run; task creation asks per image
def images_dir(env: str, daemon: str = "images") -> Path:
    """<name>.iid and <name>.ref of each image built into one daemon ("images": the local
    one; Minikube's daemon has its own folder)."""
    return BUILD / env / daemon


def recorded_ref_files() -> list[Path]:
    """Every image reference any environment recorded, for any daemon."""
    return sorted(BUILD.glob("*/*/*.ref"))


def deploy_dir(env: str) -> Path:
    """The deploy record of one environment (tasks/ops/k8s_target.py, tasks/ops/release.py):
    kustomization.yaml, pending.json, applied.json, outcome.json, release.json,
    known-good.json, secrets.env."""
    return BUILD / env / "deploy"


def kustomize_slices(env: str) -> Path:
    """The slices validation builds env's overlay in (tasks/ops/kustomize_slices.py): each
    slice's output as <key>.yaml, and `work/`, the scratch kustomizations being built."""
    return BUILD / env / "kustomize-slices"


def compose_jobs_dir(env: str) -> Path:
    """<job>.json of each Compose job's last run: result, exit code, when, image, volumes."""
    return BUILD / env / "compose-jobs"


def push_dir(env: str) -> Path:
    """<name>.ref of each image pushed to the environment's registry."""
    return BUILD / env / "push"


def terraform_dir(env: str) -> Path:
    """The environment's saved plan, its inputs hash and Terraform's data (TF_DATA_DIR)."""
    return BUILD / env / "terraform"


def minikube_dir(env: str) -> Path:
    """Which images were loaded into which Minikube cluster (by cluster UID)."""
    return BUILD / env / "minikube"


def graph_svg(env: str) -> Path:
    """The environment's task graph, as `doit graph` last drew it (tasks/ops/graph.py)."""
    return BUILD / env / "graph.svg"


def memo(name: str) -> Path:
    """A value saved between runs under the key of its inputs (tasks/store/memo.py)."""
    return BUILD / "memo" / f"{name}.pickle"


def tf_validate_dir() -> Path:
    """A copy of terraform/ that `tf_validate` inits and validates (never the source tree)."""
    return BUILD / "terraform" / "validate"


def tf_validate_mode() -> Path:
    """How the last `tf_validate` ran: with provider schemas, or structural checks only."""
    return BUILD / "terraform" / "validate.mode"


def code_closure_file() -> Path:
    """Which of the tool's files each module's code depends on, with their stamps
    (tasks/store/paths.py `code_files`; a cache: deleting it costs one walk)."""
    return BUILD / "state" / "code-closure.json"


# Not under .build/checkov/: that is where the README installs checkov's own virtualenv, which
# a user deletes to upgrade checkov (and a record there would sit among pip's files).
def checkov_mode() -> Path:
    """Did the last `checkov` run, or was it skipped (checkov not installed)?"""
    return BUILD / "checkov-scans" / "mode"


def checkov_passed() -> Path:
    """The content keys of the checkov scans (and scanned files) that passed (store/passed.py)."""
    return BUILD / "checkov-scans" / "passed.txt"


# --------------------------------------------------------------------------- writes


def _stage(path: Path, data: str | bytes, mode: int, durable: bool = True) -> Path:
    """The new bytes in a unique temp file next to `path` (fsynced if `durable`, `mode` from its
    first byte)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return tmp


def write_atomic(path: Path, data: str | bytes, *, mode: int = 0o644, durable: bool = True) -> None:
    """Write through a unique temp file in the same folder, then rename over `path`.

    A reader (or a second run) sees the old bytes or the new ones, never a mix; the
    temp file has `mode` from its first byte (mkstemp creates it 0600), so a secret
    is never readable by others, not even for a moment. `durable=False` skips the fsync, for a
    cache: after a crash its file may be empty, which only costs one recomputation.
    """
    tmp = _stage(path, data, mode, durable)
    try:
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_all_atomic(files: dict[Path, str], *, mode: int = 0o644) -> None:
    """Every file or none: all temp files are written first (where a full disk or a file in
    the way shows), then renamed; a rename that still fails puts back what was replaced.

    Raises the OSError, with `filename` set to the file that could not be written."""
    staged: list[tuple[Path, Path]] = []
    done: list[tuple[Path, bytes | None]] = []
    try:
        for path, text in files.items():
            try:
                staged.append((path, _stage(path, text, mode)))
            except OSError as exc:
                exc.filename = str(path)
                raise
        for path, tmp in staged:
            old = path.read_bytes() if path.exists() else None
            try:
                tmp.replace(path)
            except OSError as exc:
                exc.filename = str(path)
                raise
            done.append((path, old))
    except BaseException:
        for _, tmp in staged:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        for path, old in reversed(done):  # best effort: the old bytes, or no file as before
            with contextlib.suppress(OSError):
                if old is None:
                    path.unlink()
                else:
                    write_atomic(path, old, mode=mode)
        raise


def is_temp(path: Path) -> bool:
    """A `write_atomic` temp file (maybe another run's, in flight): never prune or read it."""
    return path.name.startswith(".") and path.name.endswith(".tmp")


def sweep_temps(root: Path, folders: tuple[str, ...]) -> list[str]:
    """Remove temp files a killed run left (SIGKILL allows no cleanup). Only safe while
    holding the run lock: then no other run has a write in flight."""
    removed = []
    for folder in folders:
        for path in (root / folder).rglob(".*.tmp"):
            if path.is_file() and is_temp(path):
                # gremlin: pardon[equivalent] is_file() just saw it; under the lock no run removes it
                path.unlink(missing_ok=True)
                removed.append(path.relative_to(root).as_posix())
    return removed


# --------------------------------------------------------------------------- the run lock

_HELD: dict[str, int] = {}


def acquire_lock(describe: str, *, waiting: Callable[[str], None]) -> None:
    """One run at a time per checkout: wait for the holder, saying who it is.

    flock is released by the kernel when the holder exits, however it exits, so a
    killed run never leaves a stale lock. Held until this process ends; re-entrant
    within one process (tests run doit several times in-process).
    """
    path = lock_file()
    key = str(path.resolve())
    if key in _HELD:
        return
    path.parent.mkdir(exist_ok=True)  # .build, one folder below the project root
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EAGAIN, errno.EACCES):
            os.close(fd)
            raise
        holder = os.pread(fd, 400, 0).decode("utf-8", "replace").strip() or "another run"
        waiting(holder)
        started = time.monotonic()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        waiting(f"done waiting after {time.monotonic() - started:.1f} s")
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} (`{describe}`)\n".encode(), 0)
    _HELD[key] = fd


def lock_holder() -> str | None:
    """Who holds the run lock now ("pid 12 (`doit compose_up`)"), or None. Read, never taken: a
    holder writes that line when it takes the lock and empties it when it gives it back; a line
    left by a killed holder names a process that is gone, so it counts as free."""
    try:
        line = lock_file().read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    pid = line.split()[1] if line.startswith("pid ") and len(line.split()) > 1 else ""
    if not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    return line


def release_lock() -> None:
    """Give the lock back (for callers that run doit several times in one process)."""
    for key, fd in list(_HELD.items()):
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)
        del _HELD[key]


# --------------------------------------------------------------------------- doit's database


def repair_dep_file(path: Path) -> str | None:
    """A dependency file damaged by a kill (truncated JSON) would block every later run.

    It is moved aside; doit then starts a fresh one, which means every task is checked
    again (nothing is lost but time). Returns the message to show, None when it is fine.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        text = ""
    try:
        data = json.loads(text)
        # doit reads {task: {key: value}}: any other shape crashes it on every later run.
        if isinstance(data, dict) and all(isinstance(v, dict) for v in data.values()):
            return None
    except ValueError:
        pass
    damaged = path.with_name(path.name + ".damaged")
    path.replace(damaged)
    return (
        f"the dependency database {path} was damaged (an interrupted run?); it was moved to "
        f"{damaged.name} and is rebuilt now: every task is checked again"
    )
