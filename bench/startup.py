"""Start-up cost: `doit list` and the default `doit` no-op on the demo, against their floors.

    .venv/bin/python bench/startup.py [-n 9]

On a scratch copy of the project (the same copy the tests use; no daemon needed: the default
tasks, render and validate, start no docker). Each round runs every row once, in a new order
each round, so every row sees the same load; the table gives the median of n rounds, each row's
ratio to `python -c pass` and to `doit list`. The floors:

- `python -c pass`: the interpreter alone (the issue's yardstick);
- `import doit`: doit's own import;
- `doit list`, one task: doit's whole command on a dodo.py of one empty task (what any dodo
  pays before its own code runs).

The default `doit` no-op runs after one untimed first `doit` (which renders nothing new and
validates everything once), in rounds of its own after the other rows'. `--against DIR` adds
the same two rows for another checkout of the tool (a throwaway one: `git archive main | tar
-x -C DIR`; its .build/ is written), measured in the same rounds.

`--size N` makes both copies stacks of N generated services (bench/stackgen.py, the same
generator for both), so the rows measure what start-up costs at scale:

    .venv/bin/python bench/startup.py -n 9 --size 300 --against /tmp/main

Only `doit list` is paired then: a run with tasks imports the installed tool's `tasks`
(doit's plugins load it before dodo.py), so the `--against` copy's no-op would run this
checkout's code on the other copy's files; its row is left out.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import stackgen  # noqa: E402  (bench/ is on sys.path when this script runs)

from testing.project import copy_project  # the same copy the tests use

ONE_TASK = 'def task_one():\n    return {"actions": []}\n'


CPU: dict[str, list[float]] = {}


def cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run(argv: list[str], cwd: Path, env: dict[str, str], label: str = "") -> float:
    """Wall seconds of one run; its CPU seconds (user + system, its children included) go to
    CPU[label]: on a loaded machine CPU time moves far less than wall time."""
    before = cpu()
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    CPU.setdefault(label, []).append(cpu() - before)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=9, help="rounds (medians of n; at least 7 for the table)")
    parser.add_argument("--against", type=Path, help="another checkout of the tool, measured alongside")
    parser.add_argument("--size", type=int, help="N generated services in both copies instead of the demo")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stackbuild-startup-"))
    try:
        project = copy_project(work / "project")
        other = opts.against.resolve() if opts.against else None
        if opts.size:
            for root in (project, *([other] if other else [])):
                stackgen.generate(root, opts.size)
        floor = work / "one-task"
        floor.mkdir()
        (floor / "dodo.py").write_text(ONE_TASK)
        env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a developer's machine: imports read bytecode
        py = sys.executable
        stack = f"N={opts.size}" if opts.size else "demo"
        rows = {
            "python -c pass": ([py, "-c", "pass"], work),
            "python -c 'import doit'": ([py, "-c", "import doit"], work),
            "doit list, one-task dodo.py (doit's floor)": ([py, "-m", "doit", "list"], floor),
            f"doit list ({stack})": ([py, "-m", "doit", "list"], project),
            f"doit, no-op ({stack}: render, validate)": ([py, "-m", "doit"], project),
        }
        if other:
            rows[f"doit list ({stack}), --against"] = ([py, "-m", "doit", "list"], other)
            if not opts.size:
                rows[f"doit, no-op ({stack}), --against"] = ([py, "-m", "doit"], other)
                run([py, "-m", "doit"], other, env)
            else:
                run([py, "-m", "doit", "render"], other, env)  # its outputs on disk, as a user's
        run([py, "-m", "doit"], project, env)  # first run: renders, records render and validate
        times: dict[str, list[float]] = {label: [] for label in rows}
        # Two phases: `doit list` runs the copy's own tasks/ and a run with tasks the installed
        # ones (doit's plugins import them first), whose code stamps differ, so alternating
        # them in one copy would save every configuration again each time (tasks/config/saved.py).
        # A user's project has one tool: each phase starts with an untimed run of its kind.
        for phase in ([r for r in rows if "no-op" not in r], [r for r in rows if "no-op" in r]):
            for label in phase:
                if label.startswith("doit"):
                    argv, cwd = rows[label]
                    run(argv, cwd, env)  # saves the configurations for the code this phase runs
            for _ in range(opts.n):
                random.shuffle(phase)
                for label in phase:
                    argv, cwd = rows[label]
                    times[label].append(run(argv, cwd, env, label))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    print(f"medians of {opts.n} rounds; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    for what, table in (("wall", times), ("CPU", {label: CPU[label] for label in times})):
        med = {label: statistics.median(values) for label, values in table.items()}
        base, listing = med["python -c pass"], med[f"doit list ({stack})"]
        print(f"\n| {'run':<44} | {what} s | × python -c pass | × doit list |")
        print(f"|{'-' * 46}|-------:|-----------------:|------------:|")
        for label, value in med.items():
            print(f"| {label:<44} | {value:6.3f} | {value / base:15.1f}× | {value / listing:10.2f}× |")
    print("\neach run, seconds:")
    for label, values in times.items():
        print(f"  {label}: {' '.join(f'{v:.3f}' for v in values)}")


if __name__ == "__main__":
    main()
