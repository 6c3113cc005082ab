"""Live facts (what a daemon or cluster says right now), asked at most once per doit run.

doit asks every task's `uptodate` before running anything, and many tasks ask the same
question (`docker ps`, the Namespace, the cluster's UID). One `Facts` per stack answers
each question once; an action that changes the live system calls `forget()`, so the
next check asks again. The one cache of live facts: Compose's and Minikube's use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Facts:
    """Answers kept by question until `forget()`."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    def ask(self, key: str, fn: Callable[[], T]) -> T:
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]  # type: ignore[no-any-return]

    def forget(self) -> None:
        self._cache.clear()
