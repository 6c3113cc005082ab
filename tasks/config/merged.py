"""One environment's files merged over the defaults: what the rules check and the build reads.

The data is plain (mappings, lists, scalars) and already checked file by file against
fields.py, so its types are right; what relates two values is for the rules (rules/).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.config.yamlpos import KeyPath, Located, dotted
from tasks.errors import ConfigError
from tasks.model import STACK


@dataclass(frozen=True)
class Merged:
    env: str  # STACK: the shared stack alone
    data: dict[str, Any]
    docs: tuple[Located, ...]  # environments/stack.yaml, then the environment's own file
    sources: tuple[Path, ...]  # the same files, as paths
    root: Path  # the project: build inputs are relative to it
    environments: tuple[str, ...] = ()  # every environment of the project (a file each)

    @property
    def alone(self) -> bool:
        """The stack without an environment: it runs nowhere, so placement defaults to compose."""
        return self.env == STACK

    def error(self, path: KeyPath, problem: str, fix: str | None = None) -> ConfigError:
        """The error at `path`, in the file that last set it. When no file set it: the environment
        file if it has the top-level key (the fix usually goes there), else the last file."""
        for doc in reversed(self.docs):
            # Exact first: an environment file that only adds `sync` to a service does not own
            # the `replicas` stack.yaml set for it.
            if path in doc.lines:
                return ConfigError(doc.file, dotted(path), doc.line(path), problem, fix=fix)
        for doc in reversed(self.docs):
            if path[:1] and path[:1] in doc.lines and doc is not self.docs[0]:
                return ConfigError(doc.file, dotted(path), doc.line(path), problem, fix=fix)
        doc = self.docs[-1]
        return ConfigError(doc.file, dotted(path), doc.line(path), problem, fix=fix)

    def placement(self, db: str) -> str:
        """Where a database runs here; "" when an environment does not say (a rule refuses that)."""
        placed: dict[str, str] = self.data.get("placement", {})
        return placed.get(db, "compose" if self.alone else "")

    def enabled(self) -> list[str]:
        """The services this environment runs, in file order."""
        disabled = self.data.get("disabled_services", [])
        return [name for name in self.data["services"] if name not in disabled]

    def kind(self, service: str) -> str:
        """A service's kind: "deployment" (a container that keeps running) unless it says "job"."""
        return str(self.data["services"][service].get("kind", "deployment"))

    def jobs_declaring(self, key: str) -> list[str]:
        """The enabled jobs that set `key` to something (not an empty list or mapping): what
        a rule refuses when `key` means a container that keeps running."""
        return [
            name
            for name in self.enabled()
            if self.kind(name) == "job" and self.data["services"][name].get(key, []) not in ([], {})
        ]

    def build_of(self, service: str) -> tuple[KeyPath, dict[str, Any]] | None:
        """Where the service's build spec is and what it says: its own `build`, else
        `images.service_build`, as a whole (never merged key by key: a service with its own
        Dockerfile must not inherit `builder: true`); None when there is neither."""
        if "build" in self.data["services"][service]:
            return ("services", service, "build"), self.data["services"][service]["build"]
        if "service_build" in self.data["images"]:
            return ("images", "service_build"), self.data["images"]["service_build"]
        return None
