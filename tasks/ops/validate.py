"""Offline checks of the rendered files with the real tools: a Kubernetes overlay (kustomize,
strict schemas, the restricted Pod Security profile), Compose files, Dockerfiles."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml

from tasks.checks import policy
from tasks.errors import StackError
from tasks.output import console
from tasks.programs import compose, kubectl, kubernetes_validate
from tasks.programs import hadolint as hadolint_cli
from tasks.store import state


def check_overlay(env: str, version: str, out: str) -> None:
    """Build k8s/overlays/<env>, validate it strictly against Kubernetes `version` and the
    restricted profile; only then write the built manifests to `out`."""
    built = kubectl.kustomize(f"k8s/overlays/{env}")
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    # The file kubernetes-validate reads. A unique name: two runs (or two environments)
    # never validate each other's file.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(built)
        # --strict rejects unknown fields; the version is pinned in environments/stack.yaml.
        kubernetes_validate.strict(tmp, version)
        problems = policy.violations(yaml.safe_load_all(built))
        if problems:
            raise StackError(
                f"k8s/overlays/{env} breaks the restricted Pod Security Standard:\n"
                + "\n".join(f"  - {p}" for p in problems),
                # What a configuration value can break is refused when it loads, at its key
                # (tasks/config): here only a hand edit of k8s/ or the tool's own templates remain.
                fix="run `doit render` (k8s/ is generated: it rewrites a hand edit); if the problem "
                "stays, it is the tool's templates/k8s/: please report it",
            )
        state.write_atomic(target, built)  # the built manifest exists only once every check passed
    finally:
        Path(tmp).unlink()  # mkstemp made it; nothing else removes it
    console.step(f"k8s/overlays/{env}: schema {version} strict OK, restricted profile OK")


def check_compose(files: list[str]) -> None:
    """`docker-compose config -q` on each file, with the committed .env.example."""
    for path in files:
        folder = Path(path).parent
        # Secrets must be set for `config`; the committed example has placeholders.
        compose.check_file(path, str(folder / ".env.example"))
        console.step(f"{path}: OK")


def hadolint(dockerfiles: list[str]) -> None:
    """hadolint on every Dockerfile (a finding fails with its report)."""
    console.show(hadolint_cli.lint(dockerfiles) or "  hadolint OK")
