"""tasks/programs/skopeo.py against a real registry (Debian's docker-registry, testing/registry.py)
and the real skopeo: digests as the registry serves them, copies that keep them, and the
failures a user meets (an image the registry lacks, a registry that is down)."""

from __future__ import annotations

import hashlib
import urllib.request
from pathlib import Path

import pytest

from tasks.errors import ToolError
from tasks.programs import skopeo
from testing import oci
from testing.registry import Registry, registry

__all__ = ["registry"]  # the fixture


def _served(reg: Registry, repo: str, reference: str) -> str:
    """The digest the registry's own API reports (Docker-Content-Digest), not skopeo's answer."""
    request = urllib.request.Request(
        reg.url(f"/v2/{repo}/manifests/{reference}"),
        method="HEAD",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(answer.headers["Docker-Content-Digest"])


def test_the_digest_is_the_one_the_registry_serves(registry: Registry, tmp_path: Path) -> None:
    oci.upload(oci.layout(tmp_path / "img", "one"), f"{registry.host}/shop/engine:1")
    digest = skopeo.digest(f"{registry.host}/shop/engine:1")
    assert digest == _served(registry, "shop/engine", "1")
    assert skopeo.digest(f"{registry.host}/shop/engine@{digest}") == digest


def test_an_image_the_registry_lacks_is_none(registry: Registry) -> None:
    assert skopeo.digest(f"{registry.host}/shop/engine:absent") is None
    missing = "sha256:" + hashlib.sha256(b"never pushed").hexdigest()
    assert skopeo.digest(f"{registry.host}/shop/engine@{missing}") is None


def test_a_copy_by_digest_keeps_the_digest(registry: Registry, tmp_path: Path) -> None:
    oci.upload(oci.layout(tmp_path / "img", "two"), f"{registry.host}/dev/engine:1")
    digest = skopeo.digest(f"{registry.host}/dev/engine:1")
    skopeo.copy(f"{registry.host}/dev/engine@{digest}", f"{registry.host}/staging/engine@{digest}")
    assert _served(registry, "staging/engine", str(digest)) == digest


def test_a_registry_that_is_down_is_an_error_with_a_fix(registry: Registry) -> None:
    host = registry.host
    registry.stop()
    with pytest.raises(ToolError) as info:
        skopeo.digest(f"{host}/shop/engine:1")
    assert info.value.fix == (
        f"the registry {host} is not reachable: start it, or fix `cloud.registry` of the environment"
    )
    with pytest.raises(ToolError, match="not reachable"):
        skopeo.copy(f"{host}/a/b:1", f"{host}/c/b:1")


@pytest.mark.parametrize(
    ("reference", "plain"),
    [
        ("127.0.0.1:5000/a/b:1", True),
        ("localhost:5000/a/b:1", True),
        ("[::1]:5000/a/b:1", True),
        ("123456789012.dkr.ecr.us-west-2.amazonaws.com/a/b:1", False),
        ("registry.example.com/a/b:1", False),
    ],
)
def test_only_a_loopback_registry_is_spoken_to_over_plain_http(reference: str, plain: bool) -> None:
    assert skopeo.plain_http(reference) is plain
