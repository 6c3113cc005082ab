"""How the cost grows with the number of services: one table for N = 3, 30, 100, 300.

    .venv/bin/python bench/scale.py [--sizes 3 30 100 300] [-k 5] [--skip-images]

Each N is a scratch copy of the project rewritten by bench/stackgen.py (N services in the real
schema), rendered once and its `.build/` removed, as a checkout with committed outputs looks.
Then, in that copy, with the fake docker (testing/fakes/docker.py) first on PATH:

- first full run: `doit` (render and validate everything) with no build state;
- no-op `doit`, and `doit list` (medians of k);
- one `replicas` changed in environments/staging.yaml, then `doit` (median of k changes);
- one service's module changed, then `doit images env=local`, with the docker calls it made
  (after an untimed first `doit images env=local`);
- peak memory: the largest resident set of a doit process of that N (its own, not its children's).

Every column (peak memory too) is also given as a ratio to N=3 of the same run. `python -c
pass` and the demo itself (the real environments/) are measured in the same run, for the
start-up targets. The steps table (bench/steps.py) times the steps that could grow faster
than N at every size: kustomize + pinning, the policy check, the netpol render, the placement
doc and `doit list`, with the growth between consecutive sizes (from N=100 to N=300 the
target is at most 3.6×, 1.2 times linear).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import stackgen
import steps

from testing import harness
from testing.fakes import docker as fake_docker
from testing.project import copy_project

# Runs doit in this interpreter and writes its own peak RSS (KiB) to $SCALE_RSS at exit.
DOIT = (
    "import atexit, os, resource, sys\n"
    "atexit.register(lambda: open(os.environ['SCALE_RSS'], 'a').write("
    "f'{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n'))\n"
    "from doit.__main__ import main\n"
    "sys.argv[0] = 'doit'\n"
    "main()\n"
)


@dataclass
class Project:
    root: Path
    env: dict[str, str]
    rss: Path
    names: list[str] = field(default_factory=list)
    staging: str = ""

    def doit(self, *args: str, check: bool = True) -> float:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", DOIT, *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        if check and result.returncode != 0:
            raise SystemExit(f"doit {' '.join(args)} failed in {self.root}:\n{result.stdout[-4000:]}")
        return elapsed

    def peak_mib(self) -> float:
        lines = self.rss.read_text().split() if self.rss.exists() else ["0"]
        return max(int(x) for x in lines) / 1024


def prepare(work: Path, n: int | None) -> Project:
    """A copy with n generated services (None: the demo itself), rendered, no build state."""
    root = copy_project(work / f"n{n if n is not None else 'demo'}")
    names = stackgen.generate(root, n) if n is not None else []
    bin_dir = work / f"bin-{n}"
    fake_docker.install(bin_dir, work / f"docker-{n}")
    env = {**os.environ, "PATH": harness.fake_path(bin_dir), "SCALE_RSS": str(work / f"rss-{n}")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a developer's machine: imports read bytecode
    project = Project(root, env, work / f"rss-{n}", names)
    project.doit("render")
    shutil.rmtree(root / ".build")
    project.rss.unlink(missing_ok=True)
    return project


def median(k: int, measure: Callable[[int], float]) -> float:
    return statistics.median(measure(i) for i in range(k))


def replicas_change(project: Project, i: int) -> float:
    """One deployment's replicas set in staging.yaml (a new value each time), then `doit`."""
    path = project.root / "environments" / "staging.yaml"
    project.staging = project.staging or path.read_text()
    # The first generated service is a deployment (the demo's: engine); staging overrides none.
    name = project.names[0] if project.names else "engine"
    path.write_text(project.staging + f"services:\n  {name}: {{replicas: {4 + i % 3}}}\n")
    return project.doit()


def code_change(project: Project, work: Path, n: int | None) -> tuple[float, int, int]:
    """(seconds, docker calls, docker builds) of `doit images env=local` after one module changed."""
    project.doit("images", "env=local")
    module = project.root / "demo" / "srvthreds_demo" / "engine.py"
    if project.names:
        module = project.root / "demo" / "srvthreds_demo" / f"{project.names[0].replace('-', '_')}.py"
    log = work / f"docker-{n}" / "calls.jsonl"
    log.unlink(missing_ok=True)
    module.write_text(module.read_text() + "\n# changed by bench/scale.py\n")
    seconds = project.doit("images", "env=local")
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return seconds, len(calls), sum(1 for c in calls if c["argv"][:1] == ["build"])


def pass_time(k: int) -> float:
    def once(_: int) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        return time.perf_counter() - started

    return median(k, once)


COLUMNS = ("first full run", "no-op doit", "doit list", "one replicas change", "one code change")
RATIOS = (*COLUMNS, "peak MiB")  # the docker call counts are shown as they are


def measure(project: Project, work: Path, n: int | None, k: int, images: bool) -> dict[str, float]:
    row = {"first full run": project.doit()}
    row["no-op doit"] = median(k, lambda _: project.doit())
    row["doit list"] = median(k, lambda _: project.doit("list"))
    row["one replicas change"] = median(k, lambda i: replicas_change(project, i))
    if images:
        seconds, calls, builds = code_change(project, work, n)
        row |= {"one code change": seconds, "docker calls": calls, "docker builds": builds}
    row["peak MiB"] = project.peak_mib()
    return row


def table(rows: dict[str, dict[str, float]], base: str) -> str:
    keys = [c for c in (*COLUMNS, "docker calls", "docker builds", "peak MiB") if c in rows[base]]
    out = ["| N | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
    for label, row in rows.items():
        cells = []
        for key in keys:
            value, ref = row[key], rows[base][key]
            unit = "" if key.startswith(("docker", "peak")) else " s"
            shown = f"{value:.0f}" if key.startswith("docker") else f"{value:.2f}{unit}"
            ratio = f" ({value / ref:.1f}×)" if label != base and ref and key in RATIOS else ""
            cells.append(shown + ratio)
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 30, 100, 300])
    parser.add_argument("-k", type=int, default=5, help="runs per median")
    parser.add_argument("--skip-images", action="store_true", help="leave out the code-change column")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copies")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stackbuild-scale-"))
    rows: dict[str, dict[str, float]] = {}
    step_rows: dict[str, dict[str, float]] = {}
    try:
        for n in [None, *opts.sizes]:
            project = prepare(work, n)
            label = "demo" if n is None else str(n)
            rows[label] = measure(project, work, n, opts.k, not opts.skip_images)
            if n is not None:
                step_rows[label] = steps.steps(project.root, opts.k, project.env)
            # Each row as soon as it is measured: a run cut short still leaves its numbers.
            done = json.dumps({"row": rows[label], "steps": step_rows.get(label)})
            print(f"measured N={label}: {done}", file=sys.stderr, flush=True)
        python = pass_time(opts.k)
    finally:
        if not opts.keep:
            shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    print(
        f"median of {opts.k}; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; "
        f"{os.cpu_count()} cores\n"
    )
    print(table(rows, str(opts.sizes[0])))
    print(f"\nSteps (median of {opts.k}; growth between consecutive sizes):\n")
    print(steps.table(step_rows))
    demo = rows["demo"]
    print(f"\n`python -c pass`: {python:.3f} s; demo `doit list` {demo['doit list'] / python:.1f}× that")
    print(f"demo no-op / doit list: {demo['no-op doit'] / demo['doit list']:.2f}×")
    if "300" in rows:
        big = rows["300"]
        print(f"N=300 no-op / doit list: {big['no-op doit'] / big['doit list']:.2f}×")
        if "30" in rows:
            print(f"N=300 first run / N=30: {big['first full run'] / rows['30']['first full run']:.1f}×")
        print(f"N=300 one replicas change / doit list: {big['one replicas change'] / big['doit list']:.1f}×")


if __name__ == "__main__":
    main()
