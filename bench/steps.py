"""The steps of a run that could grow faster than the number of services, timed one by one.

Used by bench/scale.py (its steps table): each step runs in this process, in a project that
`doit render` has rendered (the cwd is moved there, as doit's is), median of k runs:

- kustomize + pinning: what a deploy builds, every slice built (none kept from a run before):
  the overlay in slices, each under a kustomization whose `images:` pin the images it names
  to a content tag, the documents read and put in kustomize's order, and the deploy's check
  that each pinned image is used (tasks/ops/k8s_deploy.py `plan`);
- policy check: the restricted Pod Security Standard over the built documents;
- netpol render: the ingress and egress paths of the base, an overlay's egress patches, and
  the base's networkpolicy.yaml rendered from them;
- placement doc: docs/placement.md from every environment;
- doit list: `doit list` in a new process (start-up and every task's creation).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tasks.checks import policy
from tasks.config import load as config
from tasks.ops import k8s_deploy, kustomize_order, kustomize_slices, validate
from tasks.programs import kubectl
from tasks.render import files, netpol, placement
from tasks.store import slices

STEPS = ("kustomize + pinning", "policy check", "netpol render", "placement doc", "doit list")
OVERLAY = "staging"  # an environment that runs in a cluster (it has an overlay) in every project


@contextmanager
def inside(root: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(root)
    try:
        yield
    finally:
        os.chdir(before)


def timed(k: int, step: Callable[[], Any]) -> float:
    runs = []
    for _ in range(k):
        started = time.perf_counter()
        step()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def images_of(overlay: str) -> dict[str, str]:
    """name -> a content-tagged reference for every image the overlay's containers run."""
    built = kubectl.kustomize(overlay)
    objects = [yaml.load(d, Loader=validate.LOADER) for d in validate.documents(built) if d.strip()]
    repos = {
        c["image"].rsplit(":", 1)[0] for o in objects if isinstance(o, dict) for c in k8s_deploy.containers(o)
    }
    return {repo.rsplit("/", 1)[-1]: f"{repo}:0123456789ab" for repo in sorted(repos)}


def kustomize_and_pin(refs: dict[str, str]) -> list[dict[str, Any]]:
    overlay = f"k8s/overlays/{OVERLAY}"
    whole = Path(
        ".build/bench-steps"
    )  # what deploy writes around the overlay (built whole only if slicing cannot)
    whole.mkdir(parents=True, exist_ok=True)
    pins = k8s_deploy.image_entries(refs, None)
    kustomization = {"resources": [os.path.relpath(overlay, whole)], "images": pins}
    (whole / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    slices.keep_only(OVERLAY, [], "pinned")  # every slice built, as a first deploy does
    built = kustomize_slices.build(overlay, OVERLAY, pins=pins, whole=str(whole))
    objects = kustomize_order.ordered(
        [d for d in yaml.load_all(built.text, Loader=validate.LOADER) if isinstance(d, dict)]
    )
    k8s_deploy.check_pinned(objects, refs, None)
    return objects


def netpol_render(root: Path) -> str:
    stack = config.load_stack(root)
    netpol.overlay_egress(config.load(OVERLAY, root), stack)
    return files.k8s_base(stack)["k8s/base/networkpolicy.yaml"]()


def steps(root: Path, k: int, env: dict[str, str]) -> dict[str, float]:
    """step -> median seconds of k runs, in the rendered project at `root`."""
    with inside(root):
        refs = images_of(f"k8s/overlays/{OVERLAY}")
        objects = kustomize_and_pin(refs)
        configs = [config.load(e, root) for e in config.environments(root)]
        row = {
            "kustomize + pinning": timed(k, lambda: kustomize_and_pin(refs)),
            "policy check": timed(k, lambda: policy.violations(objects)),
            "netpol render": timed(k, lambda: netpol_render(root)),
            "placement doc": timed(k, lambda: placement.markdown(configs)),
        }
    argv = [sys.executable, "-m", "doit", "list"]
    listed = lambda: subprocess.run(argv, cwd=root, env=env, capture_output=True, check=True)  # noqa: E731
    row["doit list"] = timed(k, listed)
    return row


def table(rows: dict[str, dict[str, float]]) -> str:
    """One row per N; the last column pairs are the growth between consecutive sizes."""
    sizes = list(rows)
    out = ["| step | " + " | ".join(f"N={n}" for n in sizes)]
    pairs = list(zip(sizes, sizes[1:], strict=False))
    out[0] += "".join(f" | {a}→{b} ({int(b) / int(a):.1f}× N)" for a, b in pairs) + " |"
    out.append("|---|" + "---:|" * (len(sizes) + len(pairs)))
    for step in STEPS:
        cells = [f"{rows[n][step] * 1000:.1f} ms" for n in sizes]
        cells += [f"{rows[b][step] / rows[a][step]:.2f}×" for a, b in pairs]
        out.append(f"| {step} | " + " | ".join(cells) + " |")
    return "\n".join(out)
