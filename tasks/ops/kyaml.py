"""YAML for kustomize and kubectl: PyYAML's safe dump, with every string Go reads back as a string.

PyYAML writes YAML 1.1 and leaves a string bare when YAML 1.1 reads it as a string; kustomize
and kubectl read YAML with Go libraries that also take `08`, `012345678908` or `1e5` as numbers.
A content tag is 12 hex digits, and about one in 260 reads as a number to Go (`0123e4567890`,
`012345678908`): a bare `newTag:` of it stopped kustomize ("cannot unmarshal number into ...
newTag of type string"), and a ConfigMap value or password of such digits stopped kubectl. Such strings are
written quoted; everything else is written byte for byte as PyYAML writes it.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

# What a YAML 1.1 or 1.2 reader may take for a number: decimal, octal or hex integers (a
# leading zero included), floats with or without a point or exponent, and their signs.
NUMBERISH = re.compile(
    r"[-+]?(0[xXoObB][0-9a-fA-F_]+|(\.[0-9_]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?|\.(inf|Inf|INF)|\.(nan|NaN|NAN))"
)

# What Go's YAML 1.1 reader (sigs.k8s.io/yaml, which reads a kustomization) takes for booleans
# and PyYAML does not: `newTag: y` stopped kustomize ("cannot unmarshal bool").
GO_BOOLS = frozenset({"y", "Y", "n", "N"})

STR = "tag:yaml.org,2002:str"


class Dumper(yaml.SafeDumper):
    """yaml.SafeDumper that quotes a string any YAML reader could take for a number."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Only where PyYAML would write it bare: what it quotes itself (`'5672'`) stays as it was, so
    # a deploy's hash moves only for the documents that kubectl could not read before.
    bare = dumper.resolve(yaml.ScalarNode, value, (True, False)) == STR  # type: ignore[no-untyped-call]
    # Go's reader drops every `_` after the first character before it parses a number
    # (`1e5_0` is 1e+50 to kustomize, `+_1` is 1).
    if bare and (value in GO_BOOLS or NUMBERISH.fullmatch(value[:1] + value[1:].replace("_", ""))):
        return dumper.represent_scalar(STR, value, style="'")
    return dumper.represent_str(value)


Dumper.add_representer(str, _string)


def dump(data: Any, *, sort_keys: bool = False) -> str:
    """One document, as yaml.safe_dump writes it but for the quoting above."""
    return yaml.dump(data, Dumper=Dumper, sort_keys=sort_keys)


def dump_all(docs: list[Any], *, sort_keys: bool = False) -> str:
    """Several documents, as yaml.safe_dump_all writes them but for the quoting above."""
    return yaml.dump_all(docs, Dumper=Dumper, sort_keys=sort_keys)
