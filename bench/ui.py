"""Benchmark the status page's server (tasks/ui/): what it costs while `doit dev` works.

    .venv/bin/python bench/ui.py [--services 6] [-n 20]
    flock /tmp/stackbuild-docker.lock .venv/bin/python bench/ui.py --look offline   # a stack that is up

Prints a table: the memory the board holds after 200, 1,000 and 5,000 log lines per service
(flat once each tail is full: a bounded deque per row), the cost of one log line in and of one
event's snapshot, the time from a change to the event the page receives (median of n), and,
with --look <env> on a running stack, one look of the watcher: a full one (the rows read in
full: `docker compose ps`, the volumes, health logs, and the logs) and one where nothing
changed (one `docker ps` and the logs), alternating: the wall time and the CPU each takes
from a `doit dev` cycle (ours and the child processes'), median of n.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import threading
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tasks.ui.app import stream
from tasks.ui.board import Board, Header

LINE = "2026-12-07T05:00:00.123456789Z engine handled request 4f1c2a in 3 ms " + "x" * 40


def memory(services: int) -> list[tuple[str, str]]:
    board = Board(Header("bench", "compose", "-", False), secrets=["s3cret-value-xyz"])
    rows = []
    tracemalloc.start()
    written = 0
    for target in (200, 1000, 5000):
        for i in range(written, target):
            for s in range(services):
                board.add_lines(f"svc{s}", [f"{LINE} {i}"])
        written = target
        rows.append(
            (
                f"board memory, {target:,} lines x {services} services",
                f"{tracemalloc.get_traced_memory()[0] / 1024:.0f} KiB",
            )
        )
    tracemalloc.stop()
    return rows


def per_line(services: int, n: int = 20000) -> list[tuple[str, str]]:
    board = Board(Header("bench", "compose", "-", False), secrets=["s3cret-value-xyz", "another-one"])
    start = time.perf_counter()
    for i in range(n):
        board.add_lines(f"svc{i % services}", [LINE])
    took = (time.perf_counter() - start) / n
    start = time.perf_counter()
    for _ in range(200):
        board.snapshot(since=board.version - services)
    snap = (time.perf_counter() - start) / 200
    return [
        ("one log line in (masked, kept)", f"{took * 1e6:.1f} us"),
        ("one event's snapshot", f"{snap * 1e6:.0f} us"),
    ]


def latency(n: int) -> list[tuple[str, str]]:
    board = Board(Header("bench", "compose", "-", False))
    closing = threading.Event()

    async def run() -> list[float]:
        gen = stream(board, closing)
        await anext(gen)
        out = []
        for i in range(n):
            changed = time.perf_counter()
            board.add_lines("svc0", [f"line {i}"])
            await anext(gen)
            out.append(time.perf_counter() - changed)
        return out

    took = asyncio.run(run())
    return [(f"change -> event (median of {n})", f"{statistics.median(took) * 1000:.0f} ms")]


def look(env: str, n: int) -> list[tuple[str, str]]:
    from tasks.config import load as config
    from tasks.ui import feed

    source = feed.for_config(config.load(env, REPO))
    board = Board(feed.header(source, REPO))
    watcher = feed.Watcher(board, source)
    rows: list[tuple[str, str]] = []
    # A full look (the rows read in full: what every look cost before the sign of change), then
    # a look where nothing changed (one `docker ps` and the logs), alternating, n of each.
    walls: dict[str, list[float]] = {"full": [], "nothing changed": []}
    cpus: dict[str, list[float]] = {"full": [], "nothing changed": []}
    for _ in range(n):
        for kind in walls:
            if kind == "full":
                watcher.forget()
            before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            watcher.look()
            walls[kind].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus[kind].append(
                sum(
                    a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime
                    for a, b in zip(after, before, strict=True)
                )
            )
    for kind in walls:
        rows += [
            (
                f"one look ({kind}) on {env}, wall (median of {n})",
                f"{statistics.median(walls[kind]) * 1000:.0f} ms",
            ),
            (
                f"one look ({kind}) on {env}, CPU (median of {n})",
                f"{statistics.median(cpus[kind]) * 1000:.0f} ms",
            ),
        ]
    return [*rows, ("rows seen", str(len(board.rows)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--services", type=int, default=6)
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument("--look", metavar="ENV", help="also time the watcher's look on a running stack")
    args = parser.parse_args()
    rows = memory(args.services) + per_line(args.services) + latency(args.n)
    if args.look:
        rows += look(args.look, max(3, args.n // 4))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  value")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
