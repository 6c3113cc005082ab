"""Images for two platforms, on the real daemon and a real registry (Debian's docker-registry):
a foreign platform's base is debootstrapped under qemu's emulation, a service image is built on
each platform's base, `push` sends both and the manifest list of them, the release record and the
rendered deploy pin the list's digest, and pulling that digest for each platform runs that
platform's program (`uname -m`). The cluster is the recording fake.

Needs qemu's user-mode emulation registered in binfmt_misc (`scripts/ci-docker.sh` does it).
Run it under the shared daemon's lock:
`flock /tmp/stackbuild-docker.lock pytest tests/integration/test_multi_platform.py`.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks.model import Config
from tasks.ops import cloud, docker_images, platforms
from tasks.ops import k8s_deploy as kd
from tasks.ops import release_record as rr
from tasks.programs import skopeo, tools
from tasks.store import images
from testing import cloudenv, recorder, releases
from testing.registry import Registry, registry

__all__ = ["registry"]  # the fixture
pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("docker_daemon")]

HOST = platforms.host()
FOREIGN = "linux/arm64" if HOST == "linux/amd64" else "linux/amd64"
UNAME = {"linux/amd64": "x86_64", "linux/arm64": "aarch64"}
DOCKERFILE = 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN uname -m > /arch\nUSER 10001\nCMD ["cat", "/arch"]\n'


def _folder(platform: str) -> str:
    return images.folder("images", None if platform == HOST else platform)


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Each platform's debootstrapped base, made once for the module (the foreign one takes
    about two minutes under emulation; docs/benchmarks.md)."""
    if not platforms.emulated(FOREIGN):
        pytest.skip(f"this machine cannot run {FOREIGN} programs: {platforms.EMULATION_FIX}")
    state = tmp_path_factory.mktemp("bases")
    made: dict[str, str] = {}
    try:
        for platform in (HOST, FOREIGN):
            foreign = None if platform == HOST else platform
            made[platform] = docker_images.debootstrap_base(
                "base",
                suite="bookworm",
                repo=f"stackbuild-it-{uuid.uuid4().hex[:8]}/base",
                iid=state / f"{platform.replace('/', '-')}.iid",
                ref=state / f"{platform.replace('/', '-')}.ref",
                docker_env={},
                platform=foreign,
            )
        yield made
    finally:
        tools.run("docker", "image", "rm", "-f", *made.values(), check=False)


def test_a_foreign_platforms_base_is_labelled_with_it_and_runs_its_programs(bases: dict[str, str]) -> None:
    for platform, ref in bases.items():
        labelled = tools.run("docker", "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", ref)
        assert labelled.stdout.strip() == platform
        ran = tools.run("docker", "run", "--rm", "--platform", platform, ref, "uname", "-m")
        assert ran.stdout.strip() == UNAME[platform]


@pytest.fixture
def built(
    bases: dict[str, str], registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Config]:
    """dev at the test's registry, listing both platforms; every cluster image built on each
    platform's base and recorded as `doit images` does. Every image removed afterwards."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    dev = cloudenv.at("dev", f"{registry.host}/dev")
    dev = dataclasses.replace(dev, images=dataclasses.replace(dev.images, platforms=(HOST, FOREIGN)))
    run = uuid.uuid4().hex[:8]
    refs: list[str] = []
    for name, repo in images.pushed(dev).items():
        ctx = tmp_path / "ctx" / name
        ctx.mkdir(parents=True)
        (ctx / "Dockerfile").write_text(DOCKERFILE + f"LABEL run={run}\n")
        for platform, base in bases.items():
            refs.append(
                docker_images.build(
                    name,
                    dockerfile=str(ctx / "Dockerfile"),
                    context=str(ctx),
                    args={"BASE_IMAGE": base},
                    repo=repo,
                    iid=images.iid_file("dev", name, _folder(platform)),
                    ref=images.ref_file("dev", name, _folder(platform)),
                    docker_env={},
                    platform=None if platform == HOST else platform,
                )
            )
    try:
        yield dev
    finally:
        local = tools.run("docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
        pushed = [r for r in local if r.startswith(registry.host)]
        tools.run("docker", "image", "rm", "-f", *refs, *pushed, check=False)


def test_push_makes_one_manifest_list_per_image_and_the_deploy_pins_its_digest(
    built: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev = built
    assert dev.cloud is not None
    names = dev.cluster_images()
    cloud.push("dev", names, dev.cloud.registry, tmp_path / "pushed", dev.images.platforms)
    record = rr.read("dev")
    assert record is not None and sorted(record.images) == sorted(names)
    for name in names:
        listed = (tmp_path / "pushed" / f"{name}.ref").read_text().strip()
        raw = json.loads(
            tools.run("skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{listed}").stdout
        )
        assert raw["mediaType"] == "application/vnd.docker.distribution.manifest.list.v2+json"
        found = sorted(f"{m['platform']['os']}/{m['platform']['architecture']}" for m in raw["manifests"])
        assert found == sorted((HOST, FOREIGN))
        assert record.images[name].digest == skopeo.digest(listed)  # the list's, not one image's
    releases.overlay(dev)
    t = kd.Target.of(dev, context="unused", registry=dev.cloud.registry)
    plan = kd.plan(t, rr.pinned("dev", dev.cloud.registry, names), None)
    used = sorted(c["image"] for d in plan.main for c in kd.containers(d))
    assert used == sorted(img.reference for img in record.images.values())
    # The pinned list runs each platform's own build: pulled for a platform, its program says so.
    one = record.images[names[0]].reference
    for platform in (FOREIGN, HOST):
        tools.run("docker", "image", "rm", "-f", one, check=False)  # one local copy per digest
        ran = tools.run("docker", "run", "--rm", "--platform", platform, one)
        assert ran.stdout.strip() == UNAME[platform]
    # Pushing again sends nothing: the images and the lists are in the registry.
    log = recorder.record(monkeypatch, tmp_path / "rec", "docker", "skopeo")
    before = rr.path("dev").read_text()
    cloud.push("dev", names, dev.cloud.registry, tmp_path / "pushed", dev.images.platforms)
    assert recorder.calls(log, "docker") == []
    assert rr.path("dev").read_text() == before
