"""Release records for tests: pin an environment's cluster images by the digests its registry
serves (the real one of testing/registry.py, or the fake skopeo that stands in for ECR)."""

from __future__ import annotations

from tasks.model import Config
from tasks.ops import release_record as rr
from tasks.programs import skopeo
from tasks.store import images

COMMIT = "0" * 40


def pin(cfg: Config, tag: str, *, commit: str = COMMIT) -> dict[str, str]:
    """Write deploy/<env>/release.yaml (under the working folder) naming `<registry>/<repo>:<tag>`
    of each cluster image by digest; returns what the deploy engine pins (name -> repo@digest)."""
    assert cfg.cloud is not None
    registry = cfg.cloud.registry.rstrip("/")
    pinned = {}
    for name, repo in images.pushed(cfg).items():
        digest = skopeo.digest(f"{registry}/{repo}:{tag}")
        assert digest is not None, f"the registry has no {registry}/{repo}:{tag}"
        pinned[name] = rr.Image(f"{registry}/{repo}", digest, commit)
    record = rr.Record(cfg.env, pinned)
    rr.write(record)
    return record.refs(registry)
