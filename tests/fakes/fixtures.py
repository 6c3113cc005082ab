"""pytest fixture putting fake `minikube`/`kubectl` first on PATH.

Use from a conftest.py:  ``pytest_plugins = ["tests.fakes.fixtures"]`` (or import
``fake_cluster`` into the conftest/test module namespace).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .cluster import FakeCluster

FAKES_DIR = Path(__file__).resolve().parent
WRAPPER_MARKER = "FAKE_K8S_WRAPPER"  # fake_kubectl skips wrappers carrying this when delegating


def install_fakes(bin_dir: Path, python: str = sys.executable) -> Path:
    """Write `minikube` and `kubectl` shell wrappers into bin_dir (created if needed).

    Wrappers (not symlinks) so the fakes run with *this* interpreter (PyYAML available)
    regardless of what `python3` resolves to on PATH."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for tool in ("minikube", "kubectl"):
        script = FAKES_DIR / f"fake_{tool}.py"
        path = bin_dir / tool
        path.write_text(f'#!/bin/sh\n# {WRAPPER_MARKER}\nexec "{python}" "{script}" "$@"\n')
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return bin_dir


def fake_path(bin_dir: Path, current: str | None = None) -> str:
    """PATH with bin_dir first and the venv's bin dir right after it (unless already present),
    so the product resolves the fakes first and the fake kubectl still finds the real one."""
    parts = [p for p in (current if current is not None else os.environ.get("PATH", "")).split(os.pathsep) if p]
    venv_bin = os.path.dirname(sys.executable)
    head = [str(bin_dir)]
    if venv_bin not in parts:
        head.append(venv_bin)
    return os.pathsep.join(head + [p for p in parts if p != str(bin_dir)])


def fake_env(state_dir: Path, bin_dir: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment for running the product in a subprocess against the fakes."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = fake_path(bin_dir, env.get("PATH", ""))
    env["FAKE_K8S_STATE"] = str(state_dir)
    env["FAKE_K8S_BIN_DIR"] = str(bin_dir)
    return env


@pytest.fixture
def fake_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCluster]:
    """Fresh fake-cluster state (no cluster exists yet) with fakes first on PATH.

    The cluster is created by the product's own `minikube start`, or by
    ``fake_cluster.create_cluster()`` for tests that start from a running cluster."""
    state_dir = tmp_path / "fake-k8s-state"
    bin_dir = install_fakes(tmp_path / "fake-bin")
    state_dir.mkdir()
    env = fake_env(state_dir, bin_dir)
    for key in ("PATH", "FAKE_K8S_STATE", "FAKE_K8S_BIN_DIR"):
        monkeypatch.setenv(key, env[key])
    cluster = FakeCluster(state_dir)
    cluster.bin_dir = bin_dir
    yield cluster
