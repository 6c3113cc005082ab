"""Release records for tests: pin an environment's cluster images by the digests its registry
serves (the real one of testing/registry.py, or the fake skopeo that stands in for ECR), and the
overlay a deploy of them applies."""

from __future__ import annotations

from pathlib import Path

import yaml

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


def overlay(cfg: Config) -> None:
    """A minimal committed-style overlay k8s/overlays/<env> (under the working folder): the
    Namespace and one Deployment per cluster image, named by repository as rendered."""
    folder = Path("k8s/overlays") / cfg.env
    folder.mkdir(parents=True)
    docs = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": name, "image": repo}]},
                },
            },
        }
        for name, repo in images.pushed(cfg).items()
    ]
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": cfg.namespace}}
    (folder / "workloads.yaml").write_text(yaml.safe_dump_all([namespace, *docs]))
    (folder / "kustomization.yaml").write_text("resources: [workloads.yaml]\n")
