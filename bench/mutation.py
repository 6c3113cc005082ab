"""Mutation benchmark: how many semantic one-line bugs in tasks/ the non-docker suite catches.

    .venv/bin/python bench/mutation.py                 # every module of tasks/, each with its own tests
    .venv/bin/python bench/mutation.py policy config   # a subset (module names or paths)
    .venv/bin/python bench/mutation.py policy --tests tests/unit/checks/test_policy.py --survivors
    .venv/bin/python bench/mutation.py --all-tests     # every module against the whole non-docker suite

Needs the `mutation` extra (`pip install -e '.[mutation]'`). Runs pytest-gremlins (see
docs/decisions.md, "Issue 15") with the semantic operators only: comparison, boundary, boolean,
arithmetic, return value, and the statement operator of bench/gremlin_statements.py (a dropped call
statement, a dropped raise). For each mutant only the tests that cover its line run (coverage is
collected once, up front); a test that starts a Python subprocess runs the mutant there too.

Which tests measure a module follows from the test tree, which mirrors tasks/: tasks/ops/compose.py
is measured with tests/unit/ops/test_compose.py. bench/mutation_tests.toml lists only exceptions:
extra files for a module (a workflow test that kills its mutants too), or the tests of a module
that has no mirror file yet. Each module is mutated against those files, not the whole suite: a
surviving mutant reruns every selected test that covers its line, and in-process doit tests cover
most of tasks/, so against the whole suite the benchmark takes hours on two cores; with the map it
takes well under one. More tests can only kill more
mutants, so a module's score with its own tests is a lower bound of its `--all-tests` score.
Modules that share a test list are mutated in one pytest-gremlins run.

Prints one row per module (mutants, killed, survived, score) and the overall score. A mutant that
times out counts as killed; one marked `# gremlin: pardon[equivalent] <why>` (an equivalent mutant)
is counted apart and left out of the score. Results are cached by content in .gremlins_cache, so
a rerun only retests what changed; --no-cache measures from scratch.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TASKS = REPO / "tasks"
REPORT = REPO / "coverage" / "gremlins" / "gremlins.json"  # where pytest-gremlins writes it (fixed)
UNIT = REPO / "tests" / "unit"
TEST_MAP = REPO / "bench" / "mutation_tests.toml"
OPERATORS = "comparison,boundary,boolean,arithmetic,return,statement"
KILLED = {"zapped", "timeout"}


@dataclass
class Tally:
    killed: int = 0
    survived: int = 0
    errors: int = 0
    pardoned: int = 0
    survivors: list[str] = field(default_factory=list)

    @property
    def mutants(self) -> int:
        return self.killed + self.survived + self.errors

    @property
    def score(self) -> float:
        return 100.0 * self.killed / self.mutants if self.mutants else 100.0


def module_name(path: Path) -> str:
    """`policy`, `ops.compose`: the module's dotted name below tasks/."""
    return ".".join(path.relative_to(TASKS).with_suffix("").parts)


def mirror(path: Path) -> Path:
    """tests/unit/<package path>/test_<module>.py: the test file of one module of tasks/."""
    rel = path.relative_to(TASKS)
    return UNIT / rel.parent / f"test_{rel.name}"


def module_paths(names: list[str]) -> list[Path]:
    """The modules of tasks/ (subpackages included) for the names given (`policy`,
    `ops.compose`, `tasks/ops/compose.py`, or a bare `compose` when it is unique), or all."""
    every = sorted(p for p in TASKS.rglob("*.py") if p.name != "__init__.py" and "__pycache__" not in p.parts)
    if not names:
        return every
    paths = []
    for name in names:
        wanted = name.removeprefix("tasks/").removeprefix("tasks.").removesuffix(".py").replace("/", ".")
        found = [p for p in every if module_name(p) == wanted] or [p for p in every if p.stem == wanted]
        if len(found) != 1:
            raise SystemExit(
                f"bench/mutation.py: {name!r} names {len(found)} modules of tasks/ "
                f"(give a dotted name such as 'policy' or 'ops.compose')"
            )
        paths += found
    return paths


def run_gremlins(
    paths: list[Path], tests: list[str], workers: int, cache: bool, batch: bool, timeout: int
) -> float:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "bench.gremlin_statements",
        "-m",
        "not docker",
        "--gremlins",
        "--gremlin-report",
        "json",
        "--gremlin-operators",
        OPERATORS,
        "--gremlin-targets",
        ",".join(str(p.relative_to(REPO)) for p in paths),
        # A mutant that turns a deadline into forever (`start + wait` -> `start * wait`) keeps
        # a worker polling until this limit. pytest-gremlins counts a timeout as a kill only if
        # the unmutated tests finish well inside it, so a short limit cannot invent kills.
        "--gremlin-mutant-timeout",
        str(timeout),
    ]
    if batch:
        command.append("--gremlin-batch")  # several mutants per pytest process: less start-up cost
    if workers > 1:
        command += ["--gremlin-parallel", "--gremlin-workers", str(workers)]
    # The cache is off unless asked for (--gremlin-cache); without it every run retests all.
    command.append("--gremlin-cache")
    if not cache:
        command.append("--gremlin-clear-cache")
    command += tests
    REPORT.unlink(missing_ok=True)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if not REPORT.is_file():
        raise SystemExit(
            f"pytest-gremlins wrote no report (exit {result.returncode}):\n"
            f"{result.stdout[-4000:]}{result.stderr[-4000:]}"
        )
    return elapsed


def test_map(paths: list[Path]) -> dict[tuple[str, ...], list[Path]]:
    """The modules grouped by their tests: the mirror file, plus the exceptions of
    bench/mutation_tests.toml."""
    listed: dict[str, list[str]] = tomllib.loads(TEST_MAP.read_text(encoding="utf-8"))["modules"]
    groups: dict[tuple[str, ...], list[Path]] = {}
    missing = []
    for path in paths:
        own = mirror(path)
        tests = [own.relative_to(REPO).as_posix()] if own.is_file() else []
        tests += listed.get(module_name(path), [])
        if not tests:
            missing.append(module_name(path))
            continue
        for test in tests:
            if not (REPO / test).exists():
                raise SystemExit(f"{TEST_MAP.relative_to(REPO)}: {module_name(path)}: no such test {test!r}")
        groups.setdefault(tuple(sorted(tests)), []).append(path)
    if missing:
        raise SystemExit(
            f"no tests for {', '.join(missing)}: write tests/unit/<package path>/test_<module>.py "
            f"(or list its tests in {TEST_MAP.relative_to(REPO)}, or run with --all-tests)"
        )
    return groups


def tally(paths: list[Path], tallies: dict[str, Tally]) -> None:
    """Add the report's results for these modules to `tallies`."""
    names = {p.resolve(): module_name(p) for p in paths}
    for name in names.values():
        tallies.setdefault(name, Tally())
    sources = {names[p.resolve()]: p.read_text(encoding="utf-8").splitlines() for p in paths}
    for result in json.loads(REPORT.read_text(encoding="utf-8"))["results"]:
        module = names.get(Path(result["file_path"]).resolve())
        if module is None:
            continue
        entry = tallies[module]
        status = result["status"]
        if result.get("pardoned") or status == "pardoned":
            entry.pardoned += 1
        elif status in KILLED:
            entry.killed += 1
        elif status == "survived":
            entry.survived += 1
            line = result["line_number"]
            code = sources[module][line - 1].strip() if 0 < line <= len(sources[module]) else ""
            where = Path(result["file_path"]).resolve().relative_to(REPO)
            description = result["description"]
            if result["operator"] == "statement":  # bench/gremlin_statements.py has one kind per node
                description = "raise dropped" if code.startswith("raise") else "call dropped"
            entry.survivors.append(f"{where}:{line}: {result['operator']}: {description}  | {code}")
        else:
            entry.errors += 1


def table(tallies: dict[str, Tally]) -> str:
    rows = [
        "| module | mutants | killed | survived | errors | equivalent | score |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    total = Tally()
    for module, entry in sorted(tallies.items(), key=lambda item: (item[1].score, item[0])):
        rows.append(
            f"| {module} | {entry.mutants} | {entry.killed} | {entry.survived} | {entry.errors} "
            f"| {entry.pardoned} | {entry.score:.0f}% |"
        )
        total.killed += entry.killed
        total.survived += entry.survived
        total.errors += entry.errors
        total.pardoned += entry.pardoned
    rows.append(
        f"| **overall** | {total.mutants} | {total.killed} | {total.survived} | {total.errors} "
        f"| {total.pardoned} | **{total.score:.1f}%** |"
    )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("modules", nargs="*", help="modules of tasks/ to mutate (default: all)")
    parser.add_argument(
        "--tests",
        nargs="+",
        help="test paths to run (default: each module's mirror file and bench/mutation_tests.toml)",
    )
    parser.add_argument(
        "--all-tests", action="store_true", help="run the whole non-docker suite for every module"
    )
    parser.add_argument("--workers", type=int, default=2, help="parallel mutant workers (default 2)")
    parser.add_argument(
        "--mutant-timeout",
        type=int,
        help="seconds one mutant's tests may run (default 180; 1800 with --all-tests)",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="retest every mutant (ignore .gremlins_cache)"
    )
    parser.add_argument("--no-batch", action="store_true", help="one pytest process per mutant")
    parser.add_argument("--survivors", action="store_true", help="list every surviving mutant")
    parser.add_argument("--fail-under", type=float, default=0.0, help="exit 1 if the overall score is lower")
    parser.add_argument(
        "--module-fail-under", type=float, default=0.0, help="exit 1 if any module's score is lower"
    )
    args = parser.parse_args()

    paths = module_paths(args.modules)
    groups = {tuple(args.tests or ["tests"]): paths} if args.tests or args.all_tests else test_map(paths)
    tallies: dict[str, Tally] = {}
    elapsed = 0.0
    for number, (tests, members) in enumerate(groups.items(), 1):
        print(
            f"[{number}/{len(groups)}] {', '.join(module_name(p) for p in members)} with {' '.join(tests)}",
            file=sys.stderr,
            flush=True,
        )
        elapsed += run_gremlins(
            members,
            list(tests),
            args.workers,
            cache=not args.no_cache,
            batch=not args.no_batch,
            timeout=args.mutant_timeout or (1800 if args.all_tests else 180),
        )
        tally(members, tallies)
    print(table(tallies))
    total_killed = sum(t.killed for t in tallies.values())
    total_mutants = sum(t.mutants for t in tallies.values())
    overall = 100.0 * total_killed / total_mutants if total_mutants else 100.0
    print(
        f"\n{total_mutants} mutants in {len(paths)} modules, {elapsed:.0f} s wall "
        f"({elapsed / max(total_mutants, 1):.2f} s per mutant)"
    )
    if args.survivors:
        print("\nSurvivors:")
        for entry in tallies.values():
            for line in entry.survivors:
                print(f"  {line}")
    below = [m for m, t in tallies.items() if t.score < args.module_fail_under]
    if overall < args.fail_under or below:
        print(
            f"\nBelow target: overall {overall:.1f}% (target {args.fail_under:.0f}%); "
            f"modules under {args.module_fail_under:.0f}%: {', '.join(sorted(below)) or 'none'}"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
