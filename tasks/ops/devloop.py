"""The inner loop (`doit dev env=<env>`): watch, and on each batch of changes run one cycle.

A cycle takes the checkout's run lock (only then: `doit compose_ps` works while the loop
waits), reloads the configuration, maps the changed files to services (tasks/ops/devmap.py),
live-syncs them when every file matches a sync rule (tasks/ops/sync.py) or
rebuilds exactly those services' images (tasks/ops/devbuild.py) and recreates only their
containers (Compose) or applies and rolls out the overlay, of which only their Deployments
changed (Minikube; the deploy engine skips what is unchanged). Then it writes the services'
records (tasks/store/devstate.py) and prints ONE line. What the cycle's steps print goes to
.build/logs/dev.log, which the line names when it failed.

A failure (configuration, build, health) is that one line; the loop goes on, what ran keeps
running, and nothing is recorded as done: the changed files' digests are kept only for
cycles that succeeded, so saving the same content again retries. Ctrl-C and SIGTERM end
the loop (exit 0); the stack keeps running.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tasks.config import load as config
from tasks.errors import StackError
from tasks.model import Config
from tasks.ops import compose, devbuild, devmap, devwatch, sync
from tasks.ops import minikube as mk_ops
from tasks.ops.compose_jobs import run_job
from tasks.ops.compose_stack import Stack
from tasks.ops.targets import registry, rollout
from tasks.output import console
from tasks.render import plan as render_plan
from tasks.render import templates, writer
from tasks.store import devstate, state

# How many changed files the cycle's line names before "(+N more)".
SHOWN = 3
# Seconds a replaced container gets to stop: a development server that ignores SIGTERM (a
# PID 1 without a handler) must not cost Docker's default 10 s a cycle, and has nothing worth
# a graceful stop (data lives in the databases' volumes; sync restarts the same way).
STOP_GRACE = 0
# Longest failure summary on the line; the whole of it is in the log.
SUMMARY = 240
# The line of a failure's output that says what went wrong: an exception's name and message
# (`SyntaxError: invalid syntax`, `TypeError: ...`), else a line that says error.
EXCEPTION = re.compile(r"\b\w+(Error|Exception)\b:")
ERROR = re.compile(r"\berr(or)?\b", re.IGNORECASE)


@dataclass(frozen=True)
class Outcome:
    """One cycle, as its line and the services' records say it."""

    files: tuple[str, ...]
    ran: str
    seconds: float
    ok: bool
    summary: str = ""
    services: tuple[str, ...] = ()
    refs: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        shown = ", ".join(self.files[:SHOWN]) + (
            f" (+{len(self.files) - SHOWN} more)" if len(self.files) > SHOWN else ""
        )
        result = "healthy" if self.ok else f"FAILED: {self.summary}"
        return f"[dev] {shown}: {self.ran} in {self.seconds:.1f} s: {result}"


def log_file() -> Path:
    return state.logs_dir() / "dev.log"


def loop_lock() -> Path:
    return state.BUILD / "dev.lock"


_LOOP: list[int] = []  # the held loop lock's descriptor (kept open until the process ends)


def hold_loop(env: str) -> None:
    """One loop per checkout: two would race to rebuild the same change. Held for the life of
    the process (the kernel drops it however the loop ends); taken before the stack comes up,
    so a second `doit dev` is refused at once, not after a `compose_up`."""
    if _LOOP:
        return
    path = loop_lock()
    path.parent.mkdir(exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
        os.close(fd)
        if exc.errno not in (errno.EAGAIN, errno.EACCES):
            raise
        raise StackError(
            f"another `doit dev` already runs in this checkout ({holder})",
            fix="use that one, or stop it (Ctrl-C in its terminal) first",
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()}, env={env}\n".encode(), 0)
    _LOOP.append(fd)


def prepare(env: str) -> None:
    """What `doit dev` checks before anything runs (before the stack comes up): the watcher
    library is installed (else one sentence naming the install), and no other loop runs."""
    devwatch.library()
    hold_loop(env)


def release_loop() -> None:
    """Give the loop's lock back (for callers that run several loops in one process)."""
    while _LOOP:
        os.close(_LOOP.pop())


def refuse_cloud(cfg: Config) -> None:
    if cfg.cloud is not None:
        raise StackError(
            f"`doit dev` runs only local environments, and {cfg.env} deploys to the cloud",
            fix="deploy it with `doit deploy`; run `doit dev` with a Compose or Minikube environment",
        )


def one_line(exc: StackError) -> str:
    """The failure summary on one line: its first line (what failed), then the line of the
    rest that names an error (`SyntaxError: ...`, `ERROR ...`), else its last two (a health
    check's own last words); all of it, and the fix, are in the log."""
    lines = [line.strip() for line in exc.message.splitlines() if line.strip()]
    rest = lines[1:]
    for pattern in (EXCEPTION, ERROR):
        named = [line for line in rest if pattern.search(line)]
        if named:
            rest = named[-1:]
            break
    text = " | ".join(lines[:1] + rest[-2:])
    return text if len(text) <= SUMMARY else text[: SUMMARY - 3] + "..."


class Digests:
    """What each changed file held when a cycle last succeeded with it: a save that changes
    nothing (the same bytes again) costs no cycle, and a failed cycle's files retry."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.known: dict[str, str] = {}

    def of(self, rel: str) -> str:
        try:
            return hashlib.sha256((self.root / rel).read_bytes()).hexdigest()
        except OSError:
            return "gone"  # removed (or a folder): a change all the same

    def changed(self, files: list[str]) -> list[str]:
        return [f for f in files if self.known.get(f) != self.of(f)]

    def settle(self, files: list[str], ok: bool) -> None:
        for f in files:
            if ok:
                self.known[f] = self.of(f)
            else:
                self.known.pop(f, None)


def marks_line(marks: sync.Marks) -> str:
    """When each step of a sync cycle ended, for the log (bench/devloop.py reads it)."""
    return "[dev] sync marks: " + " ".join(f"{what}={at:.3f}" for what, at in marks)


def try_sync(
    cfg: Config, root: Path, changed: list[str], marks: sync.Marks | None = None
) -> tuple[str, ...] | None:
    """Copy the changes into the running containers when every file matches a sync rule
    (tasks/ops/sync.py); the services synced, or None: rebuild instead. `marks` gets when
    each step ended, and the log gets them."""
    found = sync.plan(cfg, [Path(c) for c in changed], root=root)
    if found is None:
        return None
    sync.mark(marks, "planned")
    sync.apply(cfg, found, marks=marks)
    names = tuple(found.services)
    # The restart may not come back: "healthy" is said only once the deploy engine has seen it.
    if cfg.runtime == "compose":
        stack = Stack(cfg)
        running = [n for n in stack.services() if n in names]
        if running:
            compose.up(stack, compose.Live(stack.project), running, "services", stop_grace=STOP_GRACE)
    else:
        rollout.converge(registry.for_config(cfg))
    sync.mark(marks, "healthy")
    if marks is not None:
        console.say(marks_line(marks))
    return names


def render(cfg: Config, root: Path) -> None:
    """The environment's Compose files (and overlay), as `doit render` makes them."""
    outputs = render_plan.env_compose(cfg.env, root)
    if cfg.runtime == "kubernetes":
        outputs |= render_plan.env_overlay(cfg.env, root)
    writer.write_all(templates.texts(outputs), root)


def deploy_compose(cfg: Config, work: devmap.Work, changed: list[str]) -> dict[str, str]:
    stack = Stack(cfg)
    refs = devbuild.build(cfg, work.services, changed, full=work.config)
    live = compose.Live(stack.project)
    if work.config:
        compose.up(stack, live, stack.dbs(), "databases")
    names = [n for n in stack.services() if n in work.services]
    if names:
        compose.up(stack, live, names, "services", stop_grace=STOP_GRACE)
    for job in stack.jobs():
        if job in work.services:
            run_job(stack, live, job)
    return refs


def deploy_minikube(cfg: Config, work: devmap.Work, changed: list[str]) -> dict[str, str]:
    facts = mk_ops.live(cfg)
    inside = cfg.minikube.image_strategy == "docker-env"  # else built here, then loaded
    docker_env = facts.docker_env() if inside else {}
    refs = devbuild.build(
        cfg, work.services, changed, daemon=mk_ops.IMAGES, docker_env=docker_env, full=work.config
    )
    if not inside and refs:
        mk_ops.load_images(cfg, facts)  # only the images the cluster lacks: the rebuilt ones
    # The whole overlay, of which only the rebuilt services' Deployments changed: the engine
    # applies nothing when its hash is unchanged, and waits for every workload.
    rollout.converge(registry.for_config(cfg))
    return refs


def run_work(
    cfg: Config, root: Path, work: devmap.Work, changed: list[str], marks: sync.Marks | None = None
) -> tuple[str, tuple[str, ...], dict[str, str]]:
    """Sync or rebuild, then deploy: (what ran, the services it touched, the new image refs)."""
    synced = None if work.config else try_sync(cfg, root, changed, marks)
    if synced is not None:
        return f"synced {', '.join(synced)}", synced, {}
    if work.config:
        render(cfg, root)
    deploy = deploy_compose if cfg.runtime == "compose" else deploy_minikube
    refs = deploy(cfg, work, changed)
    what = "configuration: rendered, rebuilt" if work.config else "rebuilt"
    return f"{what} {', '.join(work.services) or 'nothing'}", work.services, refs


@contextlib.contextmanager
def cycle_output() -> Iterator[None]:
    """What a cycle's steps print goes to the log, so the terminal gets one line per cycle."""
    path = log_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(f"\n--- cycle at {time.strftime('%H:%M:%S')}\n")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            yield


def cycle(env: str, root: Path, changed: list[str]) -> Outcome:
    """One cycle under the run lock; never raises a StackError (the outcome says it)."""
    started = time.monotonic()
    marks: sync.Marks = [("cycle", time.time())]
    state.acquire_lock(f"doit dev env={env} (a cycle)", waiting=console.say)
    sync.mark(marks, "locked")
    try:
        services: tuple[str, ...] = ()
        ran = "configuration"
        try:
            with cycle_output():
                config.forget()  # the configuration as the disk has it now
                cfg = config.load(env, root)
                work = devmap.plan(cfg, changed)
                services = work.services
                ran = f"rebuild of {', '.join(services)}"  # what was tried, should it fail
                ran, services, refs = run_work(cfg, root, work, changed, marks)
            outcome = Outcome(tuple(changed), ran, time.monotonic() - started, True, "", services, refs)
        except StackError as exc:
            with cycle_output():
                console.error(exc.render())
            summary = f"{one_line(exc)} (log: {log_file()})"
            outcome = Outcome(tuple(changed), ran, time.monotonic() - started, False, summary, services)
        record(env, outcome)
        return outcome
    finally:
        state.release_lock()


def record(env: str, outcome: Outcome) -> None:
    """Each touched service's record; a failed cycle keeps the image of the last good one."""
    now = time.time()
    for name in outcome.services:
        changes: dict[str, object] = {
            "result": "ok" if outcome.ok else "failed",
            "seconds": round(outcome.seconds, 2),
            "changed_at": now,
            "summary": outcome.summary,
            "files": outcome.files[:SHOWN],
        }
        if name in outcome.refs:
            changes |= {"image": outcome.refs[name], "synced_at": 0.0}  # a real build: no longer synced
        devstate.update(env, name, **changes)


def start_line(cfg: Config, watched: list[Path], root: Path) -> str:
    names = ", ".join(str(p.relative_to(root.resolve())) for p in watched) or "nothing"
    return f"[dev] watching {names} for {cfg.env} (Ctrl-C stops the loop; the stack keeps running)"


def stop_line(cfg: Config) -> str:
    down = "compose_down" if cfg.runtime == "compose" else "minikube_down"
    return f"[dev] stopped; the stack keeps running (stop it with `doit {down} env={cfg.env}`)"


def run(env: str, root: Path, *, stop: threading.Event | None = None) -> None:
    """The loop: wait for changes, run a cycle per batch, until Ctrl-C, SIGTERM or `stop`."""
    cfg = config.load(env, root)
    refuse_cloud(cfg)
    state.release_lock()  # the lock is the cycles' alone: others may run while the loop waits
    stop = stop or threading.Event()
    watched = devwatch.watched(cfg, root)
    digests = Digests(root)
    try:
        # Inside the try: a Ctrl-C that lands while this line is still being written ends the
        # loop like any other (the line is what a caller waits for before it may interrupt).
        console.say(start_line(cfg, watched, root))
        for files in devwatch.batches(watched, root, stop):
            changed = digests.changed(files)
            if not changed:
                continue  # the same bytes saved again: nothing to do
            outcome = cycle(env, root, changed)
            digests.settle(changed, outcome.ok)
            console.say(outcome.line())
    except KeyboardInterrupt:
        pass  # Ctrl-C or SIGTERM (tasks/cli/exits.py makes it one): stop the loop, not the stack
    console.say(stop_line(cfg))
