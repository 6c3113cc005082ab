"""Fake kubectl: `kustomize` and `version --client` run the real kubectl found later on PATH."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from testing import harness

# --------------------------------------------------------------------------- real kubectl


def find_real_kubectl() -> str | None:
    """First `kubectl` on PATH that is not a fake (any program testing.harness installed)."""
    skip_dir = os.environ.get("FAKE_K8S_BIN_DIR")
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if not d or (skip_dir and os.path.realpath(d) == os.path.realpath(skip_dir)):
            continue
        cand = Path(d) / "kubectl"
        if not (cand.is_file() and os.access(cand, os.X_OK)):
            continue
        if harness.is_fake(cand):
            continue
        return str(cand)
    return None


def delegate(argv: list[str]) -> int:
    real = find_real_kubectl()
    if real is None:
        sys.stderr.write("error: fake kubectl: no real kubectl found on PATH to delegate to\n")
        return 1
    return subprocess.run([real, *argv], check=False).returncode
