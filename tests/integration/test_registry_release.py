"""The release flow on a real registry (Debian's docker-registry, testing/registry.py) and the
real Docker daemon: `push` sends small images and records the digests the registry serves; the
deploy's rendered manifests pin those digests; `promote` copies them to another environment's
repositories with no build (every docker and skopeo call counted); a record naming a digest the
registry lacks is refused before anything is applied (the cluster is the recording fake).

Run it under the shared daemon's lock:
`flock /tmp/stackbuild-docker.lock pytest tests/integration/test_registry_release.py`.
"""

from __future__ import annotations

import hashlib
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.model import Config
from tasks.ops import cloud, promote
from tasks.ops import k8s_deploy as kd
from tasks.ops import release_record as rr
from tasks.ops.targets import kubernetes
from tasks.programs import tools
from tasks.store import images
from testing import cloudenv, recorder, releases
from testing.fakes.cluster import FakeCluster
from testing.registry import Registry, registry

__all__ = ["registry"]  # the fixture
pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("docker_daemon")]


@pytest.fixture
def built(registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Config]:
    """dev at the test's registry, one tiny image per cluster image built on the daemon and
    recorded as `doit images` does; every image (local and pushed) removed afterwards."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    dev = cloudenv.at("dev", f"{registry.host}/dev")
    run = uuid.uuid4().hex[:8]  # content of its own: never an image another run pushed
    tags = []
    for name, repo in images.pushed(dev).items():
        ctx = tmp_path / "ctx" / name
        ctx.mkdir(parents=True)
        (ctx / "Dockerfile").write_text("FROM scratch\nCOPY content.txt /content.txt\n")
        (ctx / "content.txt").write_text(f"{name} {run}\n")
        ref = f"{repo}:it-{run}"
        tools.run("docker", "build", "-q", "-t", ref, str(ctx))
        tags += [ref, f"{registry.host}/dev/{ref}"]
        path = images.ref_file("dev", name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(ref + "\n")
    try:
        yield dev
    finally:
        tools.run("docker", "image", "rm", "-f", *tags, check=False)


def _served(reg: Registry, repo: str, tag: str) -> str:
    """The digest the registry's own API reports for a tag (not skopeo's answer)."""
    accept = "application/vnd.docker.distribution.manifest.v2+json,application/vnd.oci.image.manifest.v1+json"
    request = urllib.request.Request(
        reg.url(f"/v2/{repo}/manifests/{tag}"), method="HEAD", headers={"Accept": accept}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(answer.headers["Docker-Content-Digest"])


def test_push_records_the_registry_digest_and_the_rendered_deploy_pins_it(
    built: Config, registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev = built
    assert dev.cloud is not None
    names = dev.cluster_images()
    cloud.push("dev", names, dev.cloud.registry, tmp_path / "pushed")
    record = rr.read("dev")
    assert record is not None and sorted(record.images) == sorted(names)
    for name, repo in images.pushed(dev).items():
        tag = images.ref_file("dev", name).read_text().strip().rsplit(":", 1)[1]
        served = _served(registry, f"dev/{repo}", tag)
        assert record.images[name].digest == served
        local_id = tools.run(
            "docker", "image", "inspect", "--format", "{{.Id}}", f"{repo}:{tag}"
        ).stdout.strip()
        assert served != local_id  # the registry's manifest digest, not the daemon's image ID
    releases.overlay(dev)
    t = kd.Target.of(dev, context="unused", registry=dev.cloud.registry)
    plan = kd.plan(t, rr.pinned("dev", dev.cloud.registry, names), None)
    used = sorted(c["image"] for d in plan.main for c in kd.containers(d))
    assert used == sorted(img.reference for img in record.images.values())
    # Pushing again sends nothing: every image is in the registry, the record is unchanged.
    log = recorder.record(monkeypatch, tmp_path / "rec", "docker", "skopeo")
    before = rr.path("dev").read_text()
    cloud.push("dev", names, dev.cloud.registry, tmp_path / "pushed")
    assert recorder.calls(log, "docker") == []
    assert rr.path("dev").read_text() == before


def test_promote_copies_the_pushed_release_by_digest_with_no_build(
    built: Config, registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev = built
    assert dev.cloud is not None
    cloud.push("dev", dev.cluster_images(), dev.cloud.registry, tmp_path / "pushed")
    staging = cloudenv.at("staging", f"{registry.host}/staging")
    log = recorder.record(monkeypatch, tmp_path / "rec", "docker", "skopeo")
    promote.promote(dev, staging)
    assert recorder.calls(log, "docker") == []
    verbs = [call.split()[1] for call in recorder.calls(log, "skopeo")]
    assert set(verbs) == {"inspect", "copy"} and verbs.count("copy") == len(dev.cluster_images())
    source, target = rr.read("dev"), rr.read("staging")
    assert source is not None and target is not None
    assert {n: i.digest for n, i in target.images.items()} == {n: i.digest for n, i in source.images.items()}
    for img in target.images.values():
        assert img.repository.startswith(f"{registry.host}/staging/")
        assert _served(registry, img.repository.split("/", 1)[1], img.digest) == img.digest


def test_a_record_naming_a_missing_digest_is_refused_before_anything_is_applied(
    built: Config, registry: Registry, tmp_path: Path, fake_cluster: FakeCluster
) -> None:
    dev = built
    assert dev.cloud is not None
    cloud.push("dev", dev.cluster_images(), dev.cloud.registry, tmp_path / "pushed")
    record = rr.read("dev")
    assert record is not None
    name = sorted(record.images)[0]
    lost = rr.Image(record.images[name].repository, "sha256:" + hashlib.sha256(b"lost").hexdigest(), "0" * 40)
    rr.write(rr.Record("dev", {**record.images, name: lost}))
    fake_cluster.clear_calls()
    with pytest.raises(StackError) as info:
        kubernetes.cloud(dev).apply()
    assert lost.reference in info.value.message and "nothing was applied" in info.value.message
    assert fake_cluster.calls("kubectl") == []
