"""tasks/programs/kubernetes_validate.py with the real kubernetes-validate: strict validation
rejects unknown fields, naming them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tasks.config import load as config
from tasks.errors import StackError
from tasks.programs import kubernetes_validate
from testing.project import REPO

VERSION = config.load_stack(REPO).kubernetes_version


def _manifest(tmp_path: Path, **spec: object) -> str:
    path = tmp_path / "m.yaml"
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "b"}, **spec}
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_strict_validation_rejects_unknown_fields(tmp_path: Path) -> None:
    kubernetes_validate.strict(_manifest(tmp_path), VERSION)
    with pytest.raises(StackError, match="kubernetes-validate") as info:
        kubernetes_validate.strict(_manifest(tmp_path, bogus=1), VERSION)
    assert "bogus" in str(info.value)


def test_strict_validation_never_skips_a_kind_it_has_no_schema_for(tmp_path: Path) -> None:
    """kubernetes-validate only warns about an unknown kind (exit 0): strict refuses it."""
    path = tmp_path / "m.yaml"
    path.write_text(
        yaml.safe_dump({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "x"}})
    )
    with pytest.raises(StackError) as info:
        kubernetes_validate.strict(str(path), VERSION)
    assert "no schema for Gadget (example.com/v1): a strict check never skips a kind" in str(info.value)
