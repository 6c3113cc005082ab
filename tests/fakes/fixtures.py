"""Old import path, kept for tests written against it: use testing.fakes.k8s, testing.harness
and the `fake_cluster` fixture of testing.plugin."""

from __future__ import annotations

from testing.fakes.cluster import FakeCluster
from testing.fakes.k8s import fake_env, install_fakes
from testing.harness import MARKER as WRAPPER_MARKER
from testing.harness import fake_path
from testing.plugin import fake_cluster

__all__ = ["WRAPPER_MARKER", "FakeCluster", "fake_cluster", "fake_env", "fake_path", "install_fakes"]
