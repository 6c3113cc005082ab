"""How long `doit graph env=local` takes, for the demo and for generated stacks.

    .venv/bin/python bench/graph.py [--sizes 300] [-k 3]

Each row is a scratch copy of the project (the demo itself, or N services from
bench/stackgen.py), rendered once, with the fake docker (testing/fakes/docker.py) first on
PATH. Timed, median of k: the whole `doit graph env=local` (the run, the child `doit taskgraph`
that loads every task and asks doit's up-to-date check of each, and Graphviz's layout), and
its two halves alone: `doit taskgraph env=local` and `dot -Tsvg` of the same graph.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import stackgen

from testing import harness
from testing.fakes import docker as fake_docker
from testing.project import copy_project


def timed(cmd: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{(result.stdout + result.stderr)[-4000:]}")
    return elapsed, result.stdout


def row(work: Path, n: int | None, k: int) -> str:
    root = copy_project(work / f"n{n if n is not None else 'demo'}")
    if n is not None:
        stackgen.generate(root, n)
    bin_dir = work / f"bin-{n}"
    fake_docker.install(bin_dir, work / f"docker-{n}")
    env = {**os.environ, "PATH": harness.fake_path(bin_dir)}
    doit = [sys.executable, "-m", "doit"]
    timed([*doit, "render"], root, env)
    whole = statistics.median(timed([*doit, "graph", "env=local"], root, env)[0] for _ in range(k))
    listing = statistics.median(timed([*doit, "taskgraph", "env=local"], root, env)[0] for _ in range(k))
    from tasks.ops import graph
    from tasks.programs import doit_graph

    nodes = graph.of_env(doit_graph.parse(timed([*doit, "taskgraph", "env=local"], root, env)[1]), "local")
    source = graph.dot_source(nodes, "local")
    layout = statistics.median(timed(["dot", "-Tsvg"], root, env, source)[0] for _ in range(k))
    size = (root / ".build" / "local" / "graph.svg").stat().st_size / 1024
    name = "demo" if n is None else f"N={n}"
    return f"| {name} | {len(nodes)} | {whole:.2f} | {listing:.2f} | {layout:.2f} | {size:.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="*", default=[300])
    parser.add_argument("-k", type=int, default=3)
    args = parser.parse_args()
    print("| stack | tasks drawn | `doit graph` s | `doit taskgraph` s | `dot -Tsvg` s | SVG KiB |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="graph-bench-") as tmp:
        for n in [None, *args.sizes]:
            print(row(Path(tmp), n, args.k), flush=True)


if __name__ == "__main__":
    main()
