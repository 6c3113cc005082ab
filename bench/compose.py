"""Benchmark the compose tasks on a scratch copy of the project (real Docker).

    flock /tmp/stackbuild-docker.lock .venv/bin/python bench/compose.py [--env offline] [-n 7]

Prints medians of n runs: a no-op `doit compose_up` paired with plain `docker-compose up -d
--wait` on the same files, .env and image references (one of each per round, alternating which
goes first, so both see the same load), with the ratio; `doit list` (start-up); a forced `doit
-a compose_up` (every task re-executed: image builds hit the layer cache, `up` recreates
nothing); a cold start (`compose_down`, then `compose_up` until every service is healthy); and
how many times a no-op started the docker and docker-compose CLIs (counted in a separate run
with a logging shim first on PATH: the timed runs never go through the shim).
Needs the stack's host ports free; leaves nothing running (volumes wiped at the end).
`--quick` leaves out the forced and cold rows; `--profile FILE` also writes a cProfile of one
no-op (untimed) to FILE, to see where its time goes (`python -m pstats FILE`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tasks.store import images
from testing.project import copy_build_state, copy_project  # the same copy the tests use

# Logs each start of a program (its arguments, one plain line), then runs the real one.
SHIM = '#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n'


def scratch_copy(env: str) -> Path:
    dest = copy_project(Path(tempfile.mkdtemp(prefix="stackbuild-bench-")) / "project")
    copy_build_state(dest, env, "base")  # the debootstrap base is only rebuilt when missing
    return dest


@dataclass(frozen=True)
class Up:
    project: Path  # the scratch copy
    seconds: float  # its first `doit compose_up` (builds what is missing)


@contextlib.contextmanager
def stack_up(env: str) -> Iterator[Up]:
    """A scratch copy of the project with `doit compose_up env=<env>` done; however the block
    ends, the stack goes down with its volumes and the copy is removed (nothing is left on
    the shared daemon)."""
    project = scratch_copy(env)
    try:
        up = [sys.executable, "-m", "doit", "compose_up", f"env={env}"]
        yield Up(project, run(up, project, bench_env()))
    finally:
        subprocess.run(
            [sys.executable, "-m", "doit", "compose_down", f"env={env}", "wipe=1"],
            cwd=project,
            capture_output=True,
            check=False,
        )
        shutil.rmtree(project.parent, ignore_errors=True)


def bench_env(*first: Path) -> dict[str, str]:
    """The environment of every measured run: this venv's programs, `first` before them."""
    path = os.pathsep.join([*map(str, first), str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "PATH": path}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a developer's machine: imports read bytecode
    return env


def shimmed_env(work: Path) -> tuple[dict[str, str], dict[str, Path]]:
    """An environment whose docker and docker-compose log each start: program -> its log."""
    bin_dir = work / "shim"
    bin_dir.mkdir()
    logs = {}
    for program in ("docker", "docker-compose"):
        real = shutil.which(program, path=bench_env()["PATH"])
        if real is None:
            raise SystemExit(f"{program} is not installed")
        logs[program] = work / f"{program}-calls.log"
        shim = bin_dir / program
        shim.write_text(SHIM.format(log=logs[program], real=real))
        shim.chmod(0o755)
    return bench_env(bin_dir), logs


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return elapsed


def plain_up(project: Path, env: str) -> list[str]:
    """`docker-compose up -d --wait` on the stack's files, .env and content references."""
    folder = project / "compose" / env
    files = ["-f", f"{folder}/docker-compose-db.yml", "-f", f"{folder}/docker-compose-services.yml"]
    return [
        str(Path(sys.executable).parent / "docker-compose"),
        "--project-directory",
        str(folder),
        *files,
        "--env-file",
        str(folder / ".env"),
        "up",
        "-d",
        "--wait",
    ]


def image_env(project: Path, env: str) -> dict[str, str]:
    refs = {p.stem: p.read_text().strip() for p in (project / ".build" / env / "images").glob("*.ref")}
    return {**bench_env(), **{images.image_var(name): ref for name, ref in refs.items()}}


def median(n: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(n))


def paired(n: int, first: Callable[[], float], second: Callable[[], float]) -> tuple[float, float]:
    """Medians of n rounds of both, alternating which runs first."""
    a: list[float] = []
    b: list[float] = []
    for i in range(n):
        if i % 2:
            b.append(second())
            a.append(first())
        else:
            a.append(first())
            b.append(second())
    return statistics.median(a), statistics.median(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="offline")
    parser.add_argument("-n", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="no forced and no cold rows")
    parser.add_argument("--profile", type=Path, help="write a cProfile of one no-op here")
    opts = parser.parse_args()
    env = opts.env
    timed_env = bench_env()
    with stack_up(env) as up:
        project, first = up.project, up.seconds
        shim_env, logs = shimmed_env(project.parent)

        def doit(*args: str, through: dict[str, str] = timed_env) -> float:
            return run([sys.executable, "-m", "doit", *args, f"env={env}"], project, through)

        plain_env = image_env(project, env)
        noop, plain = paired(
            opts.n, lambda: doit("compose_up"), lambda: run(plain_up(project, env), project, plain_env)
        )
        doit("compose_up", through=shim_env)  # counted apart from the timed runs
        calls = {p: log.read_text().splitlines() if log.exists() else [] for p, log in logs.items()}
        if opts.profile:
            profiled = ["-m", "cProfile", "-o", str(opts.profile.resolve()), "-m", "doit", "compose_up"]
            run([sys.executable, *profiled, f"env={env}"], project, timed_env)
        baseline = median(opts.n, lambda: doit("list"))
        forced = cold_start = float("nan")
        if not opts.quick:
            forced = median(opts.n, lambda: doit("-a", "compose_up"))

            def cold() -> float:
                doit("compose_down")
                return doit("compose_up")

            cold_start = median(opts.n, cold)
    rows = [
        ("first compose_up (builds, 1 run)", first),
        ("doit list (startup baseline)", baseline),
        ("no-op compose_up", noop),
        ("plain docker-compose up -d --wait (paired)", plain),
        ("forced compose_up -a", forced),
        ("cold start to healthy (after compose_down)", cold_start),
    ]
    load = os.getloadavg()
    print(f"env={env}, median of {opts.n} runs; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}\n")
    print(f"| {'measure':<44} | seconds |\n|{'-' * 46}|--------:|")
    for label, value in rows:
        print(f"| {label:<44} | {value:7.2f} |")
    print(f"\nno-op compose_up / plain up -d --wait: {noop / plain:.2f}x")
    print(f"no-op overhead over doit startup: {noop - baseline:.2f} s")
    for program, started in calls.items():
        print(f"{program} CLI starts in a no-op: {len(started)}: {json.dumps(started)}")


if __name__ == "__main__":
    main()
