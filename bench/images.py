"""Benchmark `doit images`: no-op vs forced, one-service change, builder change.

Runs on a scratch copy of the project against the real Docker daemon and prints a
table of medians plus how many images each case rebuilt (changed tags).
Usage: python bench/images.py [--env offline] [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from testing.project import copy_build_state, copy_project


def doit(project: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "doit", *args],
        cwd=project,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def refs(project: Path, env: str) -> dict[str, str]:
    folder = project / ".build" / env / "images"
    return {p.stem: p.read_text() for p in folder.glob("*.ref")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--env", default="offline")
    parser.add_argument("--runs", type=int, default=5)
    opts = parser.parse_args()
    env = f"env={opts.env}"
    work = Path(tempfile.mkdtemp(prefix="bench-images-"))
    project = copy_project(work / "project")
    # The debootstrap base is never byte-identical, so reuse the repository's one.
    copy_build_state(project, opts.env, "base")
    rows: list[tuple[str, list[float], int]] = []

    def case(label: str, prepare: object, *args: str) -> None:
        times, rebuilt = [], 0
        for i in range(opts.runs):
            if callable(prepare):
                prepare(i)
            before = refs(project, opts.env)
            times.append(doit(project, *args, *(targets if args else ["images"]), env))
            after = refs(project, opts.env)
            rebuilt = sum(1 for k in after if k not in ("builder", "base") and before.get(k) != after[k])
        rows.append((label, times, rebuilt))

    cold_time = doit(project, "images", env)
    # Forcing the debootstrap base would make a new base and move every tag; force the rest.
    targets = [f"images:{name}" for name in refs(project, opts.env) if name != "base"]
    rows.append(
        ("cold state (empty .build, layer cache warm)", [cold_time], len(refs(project, opts.env)) - 1)
    )
    case("no-op", None)
    case("forced (-a), nothing changed", None, "-a")
    engine = project / "demo" / "srvthreds_demo" / "engine.py"
    case(
        "one service changed (engine.py)",
        lambda i: engine.write_text(engine.read_text() + f"\n# bench {i}\n"),
    )
    test_file = min((project / "demo" / "tests").glob("test_*.py"))
    case(
        "builder input changed (a test file)",
        lambda i: test_file.write_text(test_file.read_text() + f"\n# bench {i}\n"),
    )
    print(f"\n`doit images env={opts.env}`, {opts.runs} runs per case, medians in seconds\n")
    print("| case | median s | runs | service images with a new tag |")
    print("|---|---:|---:|---:|")
    for label, times, rebuilt in rows:
        print(f"| {label} | {statistics.median(times):.2f} | {len(times)} | {rebuilt} |")
    noop = statistics.median(rows[1][1])
    forced = statistics.median(rows[2][1])
    print(f"\nno-op vs forced: {noop:.2f} s vs {forced:.2f} s ({forced / noop:.1f}x)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
