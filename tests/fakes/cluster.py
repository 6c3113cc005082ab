"""Old import path, kept for tests written against it: use testing.fakes.cluster."""

from __future__ import annotations

from testing.fakes.cluster import FakeCluster

__all__ = ["FakeCluster"]
