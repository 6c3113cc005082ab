"""What the sliced kustomize build of validation costs against the whole build, at N services.

    .venv/bin/python bench/slices.py [--sizes 100 300] [--before DIR]

For each N, a scratch copy rewritten by bench/stackgen.py and rendered; then, once each (the
whole build takes a minute at N=300 on a loaded machine, so no medians):

- whole: `kubectl kustomize k8s/overlays/staging` (what validation built before, and what
  deploy and bench/steps.py's "kustomize + pinning" still build);
- sliced first: tasks/ops/kustomize_slices.py with no kept slices; sliced no-op: again;
- one `replicas` change in environments/staging.yaml (as bench/scale.py makes it), `doit
  render`, then the sliced build (with how many slices it rebuilt);
- `doit validate:k8s-staging` after that change, in a copy made from this tree and, with
  --before, from another checkout of the project (e.g. `git archive main`): the before/after
  of the task a replicas change runs (render untimed; checkov is another task).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
ENV = "staging"
# Runs in the copy, with the copy's own tasks/ (a copy made from --before has the old code).
INSIDE = """
import json, sys, time
sys.path.insert(0, ".")
from tasks.ops import kustomize_slices
from tasks.programs import kubectl
out = {}
started = time.perf_counter(); kubectl.kustomize("k8s/overlays/staging")
out["whole"] = time.perf_counter() - started
for step in ("sliced first", "sliced no-op"):
    started = time.perf_counter(); built = kustomize_slices.build("k8s/overlays/staging", "staging")
    out[step] = time.perf_counter() - started
out["slices"] = built.slices
print(json.dumps(out))
"""
AFTER_CHANGE = """
import json, sys, time
sys.path.insert(0, ".")
from tasks.ops import kustomize_slices
started = time.perf_counter(); built = kustomize_slices.build("k8s/overlays/staging", "staging")
print(json.dumps({"sliced change": time.perf_counter() - started, "rebuilt": built.rebuilt}))
"""


def make(tree: Path, n: int, dest: Path) -> str:
    """A rendered copy of the project in `tree` with n services; returns its first service."""
    subprocess.run([sys.executable, str(tree / "bench/stackgen.py"), str(n), str(dest)], check=True)
    # A tree from before testing/project.py copied schemas/ (the one measured beside) lacks them.
    shutil.copytree(tree / "schemas", dest / "schemas", dirs_exist_ok=True)
    doit(dest, "render")
    stack = yaml.safe_load((dest / "environments/stack.yaml").read_text())
    return str(next(iter(stack["services"])))


def doit(root: Path, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "doit", *args], cwd=root, check=True, capture_output=True)
    return time.perf_counter() - started


def py(root: Path, code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout


def change_replicas(root: Path, name: str) -> None:
    path = root / "environments" / f"{ENV}.yaml"
    path.write_text(path.read_text() + f"services:\n  {name}: {{replicas: 4}}\n")
    doit(root, "render")


def validate_after_change(tree: Path, n: int, work: Path) -> float:
    root = work / f"{tree.name}-{n}"
    name = make(tree, n, root)
    doit(root, f"validate:k8s-{ENV}")  # the first check: every document validated once
    change_replicas(root, name)
    return doit(root, f"validate:k8s-{ENV}")


def row(n: int, work: Path, before: Path | None) -> dict[str, float]:
    root = work / f"steps-{n}"
    name = make(REPO, n, root)
    out: dict[str, float] = json.loads(py(root, INSIDE))
    change_replicas(root, name)
    out.update(json.loads(py(root, AFTER_CHANGE)))
    out["validate after change (this tree)"] = validate_after_change(REPO, n, work)
    if before is not None:
        out["validate after change (before)"] = validate_after_change(before, n, work)
    print(f"N={n}: {json.dumps(out)}", file=sys.stderr, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--before", type=Path, help="another checkout of the project, to compare")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="slices-") as tmp:
        rows = {n: row(n, Path(tmp), args.before) for n in args.sizes}
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
