"""Installing the fake `minikube` and `kubectl`, and the environment that points them at a state folder."""

from __future__ import annotations

import os
from pathlib import Path

from testing import harness
from testing.fakes.k8sstate import STATE_ENV


def install_fakes(bin_dir: Path) -> Path:
    """Write the `minikube` and `kubectl` wrappers into bin_dir (created if needed)."""
    for tool in ("minikube", "kubectl"):
        harness.install(bin_dir, tool, f"testing.fakes.{tool}")
    return bin_dir


def fake_env(state_dir: Path, bin_dir: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment for running the product (in this process or a child) against the fakes."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = harness.fake_path(bin_dir, env.get("PATH", ""))
    env[STATE_ENV] = str(state_dir)
    env["FAKE_K8S_BIN_DIR"] = str(bin_dir)
    return env
