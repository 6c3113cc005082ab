"""kubernetes-validate (the `tools` extra): manifests against the official schemas."""

from __future__ import annotations

from tasks.programs import tools


def strict(path: str, version: str) -> None:
    """Validate a manifest file against Kubernetes `version`; --strict rejects unknown fields.
    ToolError naming each problem if it fails."""
    tools.run("kubernetes-validate", "--strict", "--quiet", "-k", version, path)
