"""Edit-to-served for a one-line change in one demo service: the inner loop against its peers.

    flock /tmp/stackbuild-docker.lock .venv/bin/python bench/devloop.py [-n 5] [--skip-peers]
        [--only page|sync]

On a scratch copy, env=offline, real daemon, in ONE run: a one-line change to session-agent's
code (the body of its 404 answer names a revision), timed from the file write until the new
revision is served over HTTP (polled every 50 ms), median of n changes per row:

| path       | ours                                  | peer (same change, same Dockerfiles)        |
|------------|---------------------------------------|---------------------------------------------|
| live sync  | `doit dev` with the demo's sync rule  | `docker compose watch`, `sync+restart` rule |
| rebuild    | `doit dev`, a file outside the rules  | `docker compose watch`, `rebuild` rule      |
| no watcher | `doit compose_up` typed again         | `docker compose up -d --build --wait`       |

The peers run the demo's own Dockerfiles, made one multi-stage file (the builder as a stage),
with the same build arguments; their `develop.watch` rules name each service's module and the
shared code, as the configuration's `inputs` and build contexts do for `doit dev`; the sync
row's change is the module alone (inside the demo's sync rule), the rebuild row's the module
with its test file (outside every rule), in one save.

The status page's cost (issue 25: under 50 ms a cycle): the rebuild row's change, `doit dev
port=0` (no page) against `doit dev` serving the page with one event-stream client reading
/api/events (so its watcher asks the runtime each second), one loop per change, the two
alternated; `--only page` runs just these rows.

Where a live sync's time goes: the loop's log (.build/logs/dev.log) has the wall-clock marks
of each sync cycle (the batch in, the configuration, the containers found, the copies, the
restart); with the file write and the first served answer they give the breakdown printed
under the table; `--only sync` runs just the live sync row.

Then the docker and docker-compose CLI starts of one `doit dev` cycle for a one-service
change: on the real daemon for the demo (a logging shim first on PATH, in a run apart from the
timed ones), and on the fake docker (testing/fakes) for the demo and for a generated stack of
30 services (bench/stackgen.py), which must be the same.
Needs the stack's host ports free; leaves nothing running (volumes wiped at the end).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import stackgen
import yaml

from compose import bench_env, plain_up, run, scratch_copy, shimmed_env
from tasks.store import images
from testing import harness
from testing.fakes import compose as fake_compose
from testing.fakes import docker as fake_docker
from testing.project import copy_project

ENV = "offline"
AGENT = "http://127.0.0.1:3000/no-such-path"
MODULE = "demo/srvthreds_demo/session_agent.py"
MODULE_TEST = "demo/tests/test_session_agent.py"
PAGE_PORT = 10371  # the page's port in the bench: not the default, a person's `doit ui` may hold it
NOT_FOUND = re.compile(r'return 404, \{"error": "not found"[^}]*\}\n\n    return app')


def say(text: str) -> None:
    """A measurement as soon as it is made (stderr): a run cut short still leaves its numbers."""
    print(text, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the change


class Change:
    """Writes revision after revision of session-agent and times until each is served."""

    def __init__(self, project: Path) -> None:
        self.path = project / MODULE
        self.test = project / MODULE_TEST
        self.revision = 0
        self.outside = False  # also touch session-agent's test file (no sync rule): a rebuild

    def write(self) -> float:
        self.revision += 1
        body = f'return 404, {{"error": "not found", "revision": {self.revision}}}\n\n    return app'
        text, count = NOT_FOUND.subn(body, self.path.read_text())
        assert count == 1, "session-agent's 404 answer moved: update bench/devloop.py"
        started = time.perf_counter()
        if self.outside:
            self.test.write_text(self.test.read_text() + f"# revision {self.revision}\n")
        self.path.write_text(text)
        return started

    def served(self, started: float, timeout: float = 600) -> float:
        while time.perf_counter() - started < timeout:
            if revision() == self.revision:
                return time.perf_counter() - started
            time.sleep(0.05)
        raise NotServed(f"revision {self.revision} was not served within {timeout} s")

    def timed(self, action: Callable[[], object] | None = None, timeout: float = 600) -> float:
        started = self.write()
        if action is not None:
            action()
        return self.served(started, timeout)


class NotServed(Exception):
    """A change that never reached the HTTP answer in time."""


def revision() -> object:
    """The revision session-agent serves now (None: not answering, or mid-restart)."""
    try:
        with urllib.request.urlopen(AGENT, timeout=2) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        try:
            body = exc.read()
        except (OSError, http.client.HTTPException):
            return None  # the container was stopped mid-answer
    except (urllib.error.URLError, OSError, http.client.HTTPException):
        return None
    try:
        return json.loads(body or b"{}").get("revision")
    except ValueError:
        return None


# --------------------------------------------------------------------------- a background loop


class Background:
    """A long-running command (`doit dev`, `docker compose watch`) with its output in a file."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str], ready: str) -> None:
        self.log = cwd.parent / f"bg-{int(time.time() * 1000)}.txt"
        self.out = self.log.open("w")
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=self.out, stderr=subprocess.STDOUT)
        self.wait_for(ready, 0, 900)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, needle: str, after: int, timeout: float = 300) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.text()[after:].splitlines():
                if needle in line:
                    return line
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.proc.args!r} ended:\n{self.text()[-3000:]}")
            time.sleep(0.1)
        raise SystemExit(f"no {needle!r} from {self.proc.args!r}:\n{self.text()[-3000:]}")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


def dev_rows(project: Path, change: Change, n: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    """`doit dev`: n changes inside the sync rules, then n with a file outside them, each after
    the previous cycle's line."""
    loop = Background([sys.executable, "-m", "doit", "dev", f"env={ENV}"], project, env, "[dev] watching")
    rows: tuple[list[float], list[float]] = ([], [])
    try:
        for outside, times in ((False, rows[0]), (True, rows[1])):
            change.outside = outside
            for _ in range(n):
                mark = len(loop.text())
                times.append(change.timed())
                line = loop.wait_for(f"[dev] {MODULE}", mark)
                print(f"  {line}", file=sys.stderr)
    finally:
        change.outside = False
        loop.stop()
    return rows


# --------------------------------------------------------------------------- the status page


class EventClient:
    """One open page: reads the status page's event stream (/api/events, with the page's own
    Host) in a thread until stopped, counting the events it got."""

    def __init__(self, port: int, timeout: float = 60) -> None:
        self.events = 0
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        deadline = time.monotonic() + timeout
        while True:  # the page listens once the loop printed its address; retry briefly
            try:
                self.conn.request("GET", "/api/events", headers={"Host": f"127.0.0.1:{port}"})
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.response = self.conn.getresponse()
        assert self.response.status == 200, f"/api/events answered {self.response.status}"
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for line in self.response:
                if line.startswith(b"data:"):
                    self.events += 1
        except (OSError, http.client.HTTPException, ValueError):
            pass  # the loop (and its page) stopped

    def stop(self) -> None:
        self.conn.close()


def page_rows(project: Path, change: Change, n: int, env: dict[str, str]) -> dict[str, list[float]]:
    """The rebuild row's change (a file outside the sync rules), one `doit dev` per change:
    without the page (port=0) and with it served and one event-stream client connected,
    alternating which goes first in each round; the time to served and the cycle's own seconds."""
    out: dict[str, list[float]] = {"no page": [], "page": [], "no page cycle": [], "page cycle": []}
    seconds = re.compile(r" in (\d+\.\d) s: ")
    for i in range(n):
        for port in (0, PAGE_PORT) if i % 2 == 0 else (PAGE_PORT, 0):
            row = "page" if port else "no page"
            argv = [sys.executable, "-m", "doit", "dev", f"env={ENV}", f"port={port}"]
            loop = Background(argv, project, env, "[dev] watching")
            client = EventClient(port) if port else None
            try:
                time.sleep(1.5)  # the page's first snapshot sent, its watcher at its 1 s pace
                change.outside = True
                mark = len(loop.text())
                out[row].append(change.timed())
                line = loop.wait_for(f"[dev] {MODULE}", mark)
                found = seconds.search(line)
                out[f"{row} cycle"].append(float(found.group(1)) if found else float("nan"))
                events = f", {client.events} events read" if client else ""
                say(f"  {row}: {out[row][-1]:.2f} s{events}: {line}")
            finally:
                change.outside = False
                if client is not None:
                    client.stop()
                loop.stop()
    return out


# --------------------------------------------------------------------------- the peer


def peer_dockerfile(project: Path) -> Path:
    """The builder and service Dockerfiles as one file: the builder is the stage `peerbuilder`."""
    docker = project / "demo" / "docker"
    drop = re.compile(r"^ARG (BASE_IMAGE|BUILDER_IMAGE)\b.*\n", re.M)
    builder = drop.sub("", (docker / "Dockerfile.builder").read_text())
    builder = builder.replace("FROM ${BASE_IMAGE}\n", "FROM ${BASE_IMAGE} AS peerbuilder\n", 1)
    service = drop.sub("", (docker / "Dockerfile.service").read_text())
    path = project / ".build" / "bench" / "Dockerfile.peer"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("ARG BASE_IMAGE\nARG BUILDER_IMAGE=peerbuilder\n" + builder + "\n" + service)
    return path


def peer_override(project: Path, action: str) -> Path:
    """build: and develop.watch for the demo's services, with rules like `doit dev`'s: the
    service's module (`action`: rebuild, or sync+restart to where the image has it), its test
    file and the shared code (rebuild)."""
    base = (project / ".build" / ENV / "images" / "base.ref").read_text().strip()
    dockerfile = peer_dockerfile(project)
    demo = project / "demo"
    services = {}
    for name, module in (("engine", "engine"), ("session-agent", "session_agent")):
        rule: dict[str, str] = {"action": action, "path": str(demo / "srvthreds_demo" / f"{module}.py")}
        if action != "rebuild":
            rule["target"] = f"/app/srvthreds_demo/{module}.py"
        rebuild = [demo / "srvthreds_demo" / "common", demo / "tests" / f"test_{module}.py"]
        services[name] = {
            "image": f"srvthreds/{name}:peer",
            "build": {
                "context": str(demo),
                "dockerfile": str(dockerfile),
                "args": {"BASE_IMAGE": base, "UID": "10001", "SERVICE": name},
            },
            "develop": {"watch": [rule, *({"action": "rebuild", "path": str(p)} for p in rebuild)]},
        }
    path = project / ".build" / "bench" / f"peer-{action.replace('+', '-')}.yml"
    path.write_text(json.dumps({"services": services}, indent=2))
    return path


def peer_env(project: Path) -> dict[str, str]:
    refs = {p.stem: p.read_text().strip() for p in (project / ".build" / ENV / "images").glob("*.ref")}
    return {**bench_env(), **{images.image_var(name): ref for name, ref in refs.items()}}


def compose_argv(project: Path, override: Path, *command: str) -> list[str]:
    argv = plain_up(project, ENV)
    at = argv.index("up")
    return [*argv[:at], "-f", str(override), *command]


def peer_rows(project: Path, change: Change, n: int) -> dict[str, list[float]]:
    """`docker compose up -d --build --wait` typed again, then `docker compose watch` with a
    `rebuild` rule (the change with its test file), then with a `sync+restart` rule."""
    env = peer_env(project)
    rebuild = peer_override(project, "rebuild")
    up = compose_argv(project, rebuild, "up", "-d", "--build", "--wait", "engine", "session-agent")
    run(up, project, env)  # the peer's images built once, untimed
    out: dict[str, list[float]] = {
        "no watcher": [change.timed(lambda: run(up, project, env)) for _ in range(n)]
    }
    say(f"peer: no watcher {out['no watcher']}")
    for row, action, outside in (("rebuild", "rebuild", True), ("live sync", "sync+restart", False)):
        watch = Background(
            compose_argv(project, peer_override(project, action), "watch", "--no-up"), project, env, "atch"
        )
        change.outside = outside
        try:
            out[row] = []
            for _ in range(n):
                try:
                    out[row].append(change.timed(timeout=120))
                except NotServed as exc:
                    # The peer may fail where we do not (Docker 20.10 refuses compose watch's
                    # copy into a container whose user is a bare UID:GID): say why, go on.
                    failed = [line for line in watch.text().splitlines() if "level=warning" in line]
                    say(f"peer: {row} failed: {exc}; compose watch said: {failed[-1:] or 'nothing'}")
                    break
                time.sleep(2)  # the watch's own restart or rebuild settles before the next change
            say(f"peer: {row} {out[row]}")
        finally:
            change.outside = False
            watch.stop()
    return out


# --------------------------------------------------------------------------- docker calls


def real_calls(project: Path, change: Change) -> dict[str, int]:
    """CLI starts of one `doit dev` cycle on the real daemon (a logging shim first on PATH)."""
    work = project.parent / f"shim-{change.revision}"
    work.mkdir()
    env, logs = shimmed_env(work)
    loop = Background([sys.executable, "-m", "doit", "dev", f"env={ENV}"], project, env, "[dev] watching")
    try:
        for log in logs.values():
            log.unlink(missing_ok=True)
        mark = len(loop.text())
        change.outside = True  # a rebuild (a sync's calls are its own row's business)
        change.timed()
        loop.wait_for(f"[dev] {MODULE}", mark)
        return {p: len(log.read_text().splitlines()) if log.exists() else 0 for p, log in logs.items()}
    finally:
        change.outside = False
        loop.stop()


CYCLE = (
    "import sys; from pathlib import Path; from tasks.ops import devloop\n"
    "o = devloop.cycle(sys.argv[1], Path('.'), sys.argv[2:]); print(o.line()); sys.exit(0 if o.ok else 1)\n"
)


def fake_calls(work: Path, services: int | None) -> tuple[int, dict[str, int]]:
    """CLI starts of one cycle on the fake docker: the demo (None) or a generated stack."""
    root = copy_project(work / f"fake-{services or 'demo'}")
    changed = [MODULE, MODULE_TEST]  # with its test file (no sync rule): a rebuild, not a sync
    if services is not None:
        names = stackgen.generate(root, services)
        changed = [f"demo/srvthreds_demo/{names[0].replace('-', '_')}.py"]
    env_yaml = root / "environments" / f"{ENV}.yaml"
    env_yaml.write_text(env_yaml.read_text().replace("images:\n  base: debootstrap\n", ""))
    bin_dir, state, log = (
        work / f"bin-{services}",
        work / f"state-{services}",
        work / f"calls-{services}.jsonl",
    )
    fake_docker.install(bin_dir, state, log=log)
    fake_compose.install(bin_dir, state, log=log)
    env = {**os.environ, "PATH": harness.fake_path(bin_dir)}
    run([sys.executable, "-m", "doit", "compose_up", f"env={ENV}"], root, env)
    log.unlink(missing_ok=True)
    for rel in changed:
        (root / rel).write_text((root / rel).read_text() + "\n# one line\n")
    run([sys.executable, "-c", CYCLE, ENV, *changed], root, env)
    rows = harness.read_calls(log)
    stack = yaml.safe_load((root / "environments" / "stack.yaml").read_text())
    return len(stack["services"]), {
        p: sum(1 for r in rows if r["tool"] == p) for p in ("docker", "docker-compose")
    }


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--counts-only", action="store_true", help="only the CLI starts on the fake docker")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stackbuild-devloop-"))
    counts = {n: fake_calls(work, n) for n in (None, 30)}
    say(f"fake CLI starts of one cycle: {counts}")
    if opts.counts_only:
        shutil.rmtree(work, ignore_errors=True)
        return
    project = scratch_copy(ENV)
    env = bench_env()
    change = Change(project)
    peers: dict[str, list[float]] = {}
    try:
        run([sys.executable, "-m", "doit", "compose_up", f"env={ENV}"], project, env)  # untimed
        synced, rebuilt = dev_rows(project, change, opts.n, env)
        say(f"ours: live sync {synced}, rebuild {rebuilt}")
        up = [sys.executable, "-m", "doit", "compose_up", f"env={ENV}"]
        typed = [change.timed(lambda: run(up, project, env)) for _ in range(opts.n)]
        say(f"ours: no watcher {typed}")
        real = real_calls(project, change)
        say(f"real CLI starts of one cycle: {real}")
        if not opts.skip_peers:
            peers = peer_rows(project, change, opts.n)
    finally:
        subprocess.run(
            [sys.executable, "-m", "doit", "compose_down", f"env={ENV}", "wipe=1"],
            cwd=project,
            capture_output=True,
            check=False,
        )
        shutil.rmtree(project.parent, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)

    def med(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} s" if values else "not measured"

    ours = {"live sync": synced, "rebuild": rebuilt, "no watcher": typed}
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"env={ENV}, median of {opts.n} changes per row; load average {load}")
    print("\n| path | ours | peer (same change, same run) |\n|---|---:|---:|")
    for path, mine in ours.items():
        print(f"| {path} | {med(mine)} | {med(peers.get(path, []))} |")
    for path, mine in ours.items():
        theirs = peers.get(path, [])
        print(f"{path}, each (s): ours {[round(x, 2) for x in mine]}, peer {[round(x, 2) for x in theirs]}")
    print(f"\nCLI starts of one `doit dev` cycle (one service changed), real daemon, demo: {real}")
    for n, (services, calls) in counts.items():
        kind = "demo" if n is None else "generated"
        print(f"CLI starts of one cycle on the fake docker, {kind} ({services} services): {calls}")


if __name__ == "__main__":
    main()
