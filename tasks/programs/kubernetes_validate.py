"""kubernetes-validate (the `tools` extra): manifests against the official schemas."""

from __future__ import annotations

import re

from tasks.errors import StackError
from tasks.programs import tools

# What kubernetes-validate prints, and lets pass, for a kind it has no schema for.
_NO_SCHEMA = re.compile(r"Couldn't find schema for kind (\S+) with api version (\S+)")


def strict(path: str, version: str) -> None:
    """Validate a manifest file against Kubernetes `version`; --strict rejects unknown fields.
    ToolError naming each problem if it fails. StackError when a kind has no schema: the
    validator only warns and skips it, and a strict check never skips a kind."""
    result = tools.run("kubernetes-validate", "--strict", "--quiet", "-k", version, path)
    unknown = sorted({f"{kind} ({api})" for kind, api in _NO_SCHEMA.findall(result.stdout + result.stderr)})
    if unknown:
        raise StackError(
            f"Kubernetes {version} has no schema for {', '.join(unknown)}: a strict check never skips a kind",
            fix="fix the kind or apiVersion; a custom resource needs its CRD schema in schemas/crds/ "
            "(see its README)",
        )
