"""Benchmark the compose tasks on a scratch copy of the project (real Docker).

    .venv/bin/python bench/compose.py [--env offline] [-n 5]

Prints medians of n runs: a no-op `doit compose_up`, a forced `doit -a compose_up` (same
stack, every task re-executed: image builds hit the layer cache, `up` recreates nothing),
and a cold start (`compose_down`, then `compose_up` until every service is healthy).
Needs the stack's host ports free; leaves nothing running (volumes wiped at the end).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from testing.project import copy_build_state, copy_project  # the same copy the tests use


def scratch_copy(env: str) -> Path:
    dest = copy_project(Path(tempfile.mkdtemp(prefix="stackbuild-bench-")) / "project")
    copy_build_state(dest, env, "base")  # the debootstrap base is only rebuilt when missing
    return dest


def doit(project: Path, env: str, *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "doit", *args, f"env={env}"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"doit {' '.join(args)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return elapsed


def median(n: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="offline")
    parser.add_argument("-n", type=int, default=5)
    opts = parser.parse_args()
    project = scratch_copy(opts.env)
    env = opts.env
    try:
        first = doit(project, env, "compose_up")  # builds what is missing: not measured below
        baseline = median(opts.n, lambda: doit(project, env, "list"))
        noop = median(opts.n, lambda: doit(project, env, "compose_up"))
        forced = median(opts.n, lambda: doit(project, env, "-a", "compose_up"))

        def cold() -> float:
            doit(project, env, "compose_down")
            return doit(project, env, "compose_up")

        cold_start = median(opts.n, cold)
    finally:
        subprocess.run(
            [sys.executable, "-m", "doit", "compose_down", f"env={env}", "wipe=1"],
            cwd=project,
            capture_output=True,
            check=False,
        )
        shutil.rmtree(project.parent, ignore_errors=True)
    rows = [
        ("first compose_up (builds, 1 run)", first),
        ("doit list (startup baseline)", baseline),
        ("no-op compose_up", noop),
        ("forced compose_up -a", forced),
        ("cold start to healthy (after compose_down)", cold_start),
    ]
    print(f"env={env}, median of {opts.n} runs\n")
    print(f"| {'measure':<44} | seconds |\n|{'-' * 46}|---------|")
    for label, value in rows:
        print(f"| {label:<44} | {value:7.2f} |")
    print(f"\nno-op overhead over doit startup: {noop - baseline:.2f} s")


if __name__ == "__main__":
    main()
