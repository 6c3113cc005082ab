"""Edit-to-served for a one-line change in one demo service: the inner loop against its peers.

    flock /tmp/stackbuild-docker.lock .venv/bin/python bench/devloop.py [-n 5] [--skip-peers]
        [--only page sync]

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
/api/events (so its watcher asks the runtime each second), in the order no page, page, page,
no page (n changes in all for each): the time to served, the cycle's own seconds, and the
CPU the loop's process (its children included) spent from the write to the cycle's line.
`--only page` runs just these rows.

Where a live sync's time goes: the loop's log (.build/logs/dev.log) has the wall-clock marks
of each sync cycle (the batch in, the configuration, the containers found, the copies, the
restart); with the file write and the first served answer they give the breakdown printed
under the table; `--only sync` runs just the live sync row.

Then the docker and docker-compose CLI starts of one `doit dev` cycle for a one-service
change: on the real daemon for the demo (a logging shim first on PATH, in a run apart from the
timed ones), and on the fake docker (testing/fakes) for the demo and for a generated stack of
30 services (bench/stackgen.py), which must be the same.
Needs the stack's host ports free; leaves nothing running (volumes wiped at the end). The
change, the background loop and the page's client are in bench/devchange.py, the peers in
bench/devpeer.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import stackgen
import yaml
from devchange import ENV, MODULE, MODULE_TEST, PAGE_PORT, Background, Change, EventClient, say
from devpeer import PEER_ROWS, SYNC_ROWS, peer_rows

from compose import bench_env, run, shimmed_env, stack_up
from testing import harness
from testing.fakes import compose as fake_compose
from testing.fakes import docker as fake_docker
from testing.project import copy_project

# A sync's steps, from the loop's marks (tasks/ops/devloop.py `marks_line`): (name, from, to);
# "wrote" is the file write, "served" the first answer with the new revision.
STEPS = (
    ("watch (debounce, batch)", "wrote", "cycle"),
    ("lock, configuration, plan", "cycle", "planned"),
    ("docker ps (the containers)", "planned", "found"),
    ("docker cp (all files)", "found", "copied"),
    ("the rule's restart", "copied", "restarted"),
    ("process start until it answers", "restarted", "served"),
)
MARKS = "[dev] sync marks: "


def sync_steps(project: Path, change: Change, seconds: float) -> dict[str, float]:
    """Seconds per step of the last sync cycle, from the loop's log and the change's times."""
    log = (project / ".build" / "logs" / "dev.log").read_text()
    line = [x for x in log.splitlines() if x.startswith(MARKS)][-1]
    at = {k: float(v) for k, v in (pair.split("=") for pair in line.removeprefix(MARKS).split())}
    at |= {"wrote": change.wrote_at, "served": change.wrote_at + seconds}
    steps = {name: at[end] - at[start] for name, start, end in STEPS}
    steps["(after: compose up --wait until healthy)"] = at["healthy"] - at["restarted"]
    return steps


def dev_rows(
    project: Path, change: Change, n: int, env: dict[str, str], *, rebuild: bool = True
) -> tuple[list[float], list[float], list[dict[str, float]]]:
    """`doit dev`: n changes inside the sync rules (with each one's steps), then n with a file
    outside them (unless not `rebuild`), each after the previous cycle's line."""
    loop = Background([sys.executable, "-m", "doit", "dev", f"env={ENV}"], project, env, "[dev] watching")
    rows: tuple[list[float], list[float], list[dict[str, float]]] = ([], [], [])
    try:
        for outside, times in ((False, rows[0]), (True, rows[1]))[: 2 if rebuild else 1]:
            change.outside = outside
            for _ in range(n):
                mark = len(loop.text())
                times.append(change.timed())
                line = loop.wait_for(f"[dev] {MODULE}", mark)
                if not outside:
                    rows[2].append(sync_steps(project, change, times[-1]))
                    line += " | " + " ".join(f"{v:.3f}" for v in rows[2][-1].values())
                print(f"  {line}", file=sys.stderr)
    finally:
        change.outside = False
        loop.stop()
    return rows


# --------------------------------------------------------------------------- the status page


def cycle_seconds(project: Path) -> float:
    """The last cycle's own seconds, as the loop recorded them for session-agent (to 0.01 s;
    its line rounds to 0.1 s)."""
    records = json.loads((project / ".build" / ENV / "dev" / "state.json").read_text())
    return float(records["session-agent"]["seconds"])


def cpu_seconds(pid: int) -> float:
    """CPU seconds of a process so far, its waited-for children included (/proc/<pid>/stat:
    utime, stime, cutime, cstime): the page's looks start `docker compose` children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def page_rows(project: Path, change: Change, n: int, env: dict[str, str]) -> dict[str, list[float]]:
    """The rebuild row's change (a file outside the sync rules), n times without the page
    (`doit dev port=0`) and n times with it served and one event-stream client connected: four
    loops, in the order no page, page, page, no page (drift in the machine's load falls on
    both alike); the time to served and the cycle's own seconds."""
    out: dict[str, list[float]] = {
        name: [] for row in ("no page", "page") for name in (row, f"{row} cycle", f"{row} cpu")
    }
    for changes, port in (((n + 1) // 2, 0), ((n + 1) // 2, PAGE_PORT), (n // 2, PAGE_PORT), (n // 2, 0)):
        if not changes:
            continue
        row = "page" if port else "no page"
        argv = [sys.executable, "-m", "doit", "dev", f"env={ENV}", f"port={port}"]
        loop = Background(argv, project, env, "[dev] watching")
        client = EventClient(port) if port else None
        try:
            time.sleep(1.5)  # the page's first snapshot sent, its watcher at its 1 s pace
            change.outside = True
            for _ in range(changes):
                mark = len(loop.text())
                cpu = cpu_seconds(loop.proc.pid)
                out[row].append(change.timed())
                line = loop.wait_for(f"[dev] {MODULE}", mark)
                out[f"{row} cpu"].append(cpu_seconds(loop.proc.pid) - cpu)
                out[f"{row} cycle"].append(cycle_seconds(project))
                events = f", {client.events} events read" if client else ""
                say(f"  {row}: {out[row][-1]:.2f} s{events}: {line}")
        finally:
            change.outside = False
            if client is not None:
                client.stop()
            loop.stop()
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


def med(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s" if values else "not measured"


def print_steps(steps: list[dict[str, float]]) -> None:
    if not steps:
        return
    print(f"\nWhere a live sync's time goes (median of {len(steps)}, seconds):")
    for name in steps[0]:
        each = [s[name] for s in steps]
        print(f"  {name}: {statistics.median(each):.3f} (each {' '.join(f'{x:.3f}' for x in each)})")


def print_page(page: dict[str, list[float]]) -> None:
    if not page:
        return
    diff = statistics.median(page["page"]) - statistics.median(page["no page"])
    cycle = statistics.median(page["page cycle"]) - statistics.median(page["no page cycle"])
    print("\n| rebuild cycle (same change) | no page (`port=0`) | page + one event stream | difference |")
    print("|---|---:|---:|---:|")
    print(f"| write to served | {med(page['no page'])} | {med(page['page'])} | {diff * 1000:+.0f} ms |")
    print(
        f"| the loop's own seconds | {med(page['no page cycle'])} | {med(page['page cycle'])} "
        f"| {cycle * 1000:+.0f} ms |"
    )
    cpu = statistics.median(page["page cpu"]) - statistics.median(page["no page cpu"])
    print(
        f"| CPU of the loop's process (children included), write to line | {med(page['no page cpu'])} "
        f"| {med(page['page cpu'])} | {cpu * 1000:+.0f} ms |"
    )
    for row, values in page.items():
        print(f"{row}, each (s): {[round(x, 2) for x in values]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--counts-only", action="store_true", help="only the CLI starts on the fake docker")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=("page", "sync"),
        help="only the page's rows and/or the live sync rows (ours; the peers' too unless --skip-peers)",
    )
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stackbuild-devloop-"))
    counts = {} if opts.only else {n: fake_calls(work, n) for n in (None, 30)}
    say(f"fake CLI starts of one cycle: {counts}")
    if opts.counts_only:
        shutil.rmtree(work, ignore_errors=True)
        return
    env = bench_env()
    peers: dict[str, list[float]] = {}
    synced: list[float] = []
    rebuilt: list[float] = []
    typed: list[float] = []
    steps: list[dict[str, float]] = []
    page: dict[str, list[float]] = {}
    real: dict[str, int] = {}
    try:
        with stack_up(ENV) as up:  # the stack up once, untimed; down with its volumes at the end
            project = up.project
            change = Change(project)
            if not opts.only or "sync" in opts.only:
                synced, rebuilt, steps = dev_rows(project, change, opts.n, env, rebuild=not opts.only)
                say(f"ours: live sync {synced}, rebuild {rebuilt}")
            if not opts.only or "page" in opts.only:
                page = page_rows(project, change, opts.n, env)
                say(f"status page: {page}")
            if not opts.only:
                up_again = [sys.executable, "-m", "doit", "compose_up", f"env={ENV}"]
                typed = [change.timed(lambda: run(up_again, project, env)) for _ in range(opts.n)]
                say(f"ours: no watcher {typed}")
                real = real_calls(project, change)
                say(f"real CLI starts of one cycle: {real}")
            if not opts.skip_peers and (not opts.only or "sync" in opts.only):
                rows = PEER_ROWS if not opts.only else tuple(SYNC_ROWS)
                peers = peer_rows(project, change, opts.n, rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ours = {"live sync": synced, "rebuild": rebuilt, "no watcher": typed}
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"env={ENV}, median of {opts.n} changes per row; load average {load}")
    if synced or rebuilt or typed:
        print("\n| path | ours | peer (same change, same run) |\n|---|---:|---:|")
        for path, mine in ours.items():
            if mine or peers.get(path):
                print(f"| {path} | {med(mine)} | {med(peers.get(path, []))} |")
        for path in (p for p in peers if p not in ours):  # a peer's row of its own (sync+exec)
            print(f"| {path} | | {med(peers[path])} |")
        for path, mine in ours.items():
            theirs = peers.get(path, [])
            print(
                f"{path}, each (s): ours {[round(x, 2) for x in mine]}, peer {[round(x, 2) for x in theirs]}"
            )
    print_steps(steps)
    print_page(page)
    if real:
        print(f"\nCLI starts of one `doit dev` cycle (one service changed), real daemon, demo: {real}")
    for n, (services, calls) in counts.items():
        kind = "demo" if n is None else "generated"
        print(f"CLI starts of one cycle on the fake docker, {kind} ({services} services): {calls}")


if __name__ == "__main__":
    main()
