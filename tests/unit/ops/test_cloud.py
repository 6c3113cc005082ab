"""tasks/ops/cloud.py: point kubectl at an EKS cluster, log in to a registry, push the images it
lacks, against recording fakes of `aws` and `docker` first on PATH (testing/cloudcli.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.ops import cloud, release_record
from tasks.store import images
from testing.cloudcli import REGISTRY, calls, cloud_fakes, logged, write_ref

__all__ = ["cloud_fakes"]  # the fixture


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch working folder: .build/ is relative."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_kubeconfig_names_the_context_after_the_cluster_and_says_so(
    cloud_fakes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud.kubeconfig("eu-central-1", "shop-prod")
    assert calls(cloud_fakes) == [
        [
            "aws",
            "eks",
            "update-kubeconfig",
            "--region",
            "eu-central-1",
            "--name",
            "shop-prod",
            "--alias",
            "shop-prod",
        ]
    ]
    assert (
        "kubectl context shop-prod points at EKS cluster shop-prod (eu-central-1)" in capsys.readouterr().out
    )


def test_login_to_ecr_pipes_the_password_through_stdin(
    cloud_fakes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud.login(REGISTRY, "us-west-2")
    assert [(c["argv"], c["stdin"]) for c in logged(cloud_fakes)] == [
        (["aws", "ecr", "get-login-password", "--region", "us-west-2"], None),
        (["docker", "login", "--username", "AWS", "--password-stdin", REGISTRY], "s3cr3t-token"),
    ]
    assert f"logged in to {REGISTRY}" in capsys.readouterr().out


def test_login_to_a_registry_that_is_not_ecr_is_left_to_the_user(
    cloud_fakes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud.login("registry.example.com/team", "us-west-2")
    assert (
        "registry.example.com/team is not ECR: log in with `docker login registry.example.com/team` yourself"
        in capsys.readouterr().out
    )
    assert calls(cloud_fakes) == []


def test_push_skips_images_already_in_the_registry_and_records_every_remote_ref(
    cloud_fakes: Path, work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_ref("staging", "engine", "shop/engine:1a2b3c4d5e6f")
    write_ref("staging", "bootstrap", "shop/bootstrap:0f0f0f0f0f0f")
    monkeypatch.setenv("FAKE_PRESENT", "shop/bootstrap:0f0f0f0f0f0f")
    out = work / "pushed"
    cloud.push("staging", ["bootstrap", "engine"], REGISTRY + "/", out)  # a trailing / is not doubled
    inspect = ["skopeo", "inspect", "--raw", "--retry-times", "2"]
    assert calls(cloud_fakes) == [
        [*inspect, f"docker://{REGISTRY}/shop/bootstrap:0f0f0f0f0f0f"],
        [*inspect, f"docker://{REGISTRY}/shop/engine:1a2b3c4d5e6f"],
        ["docker", "tag", "shop/engine:1a2b3c4d5e6f", f"{REGISTRY}/shop/engine:1a2b3c4d5e6f"],
        ["docker", "push", f"{REGISTRY}/shop/engine:1a2b3c4d5e6f"],
        [*inspect, f"docker://{REGISTRY}/shop/engine:1a2b3c4d5e6f"],
    ]
    said = capsys.readouterr().out
    assert f"  {REGISTRY}/shop/engine:1a2b3c4d5e6f: pushed" in said
    assert f"  {REGISTRY}/shop/bootstrap:0f0f0f0f0f0f: already in the registry" in said
    assert (out / "engine.ref").read_text() == f"{REGISTRY}/shop/engine:1a2b3c4d5e6f\n"
    assert (out / "bootstrap.ref").read_text() == f"{REGISTRY}/shop/bootstrap:0f0f0f0f0f0f\n"
    # The release record names each image by the digest the registry served for it.
    record = release_record.read("staging")
    assert record is not None and sorted(record.images) == ["bootstrap", "engine"]
    engine = record.images["engine"]
    assert engine.repository == f"{REGISTRY}/shop/engine"
    served = json.dumps({"fake": f"{REGISTRY}/shop/engine:1a2b3c4d5e6f"}) + "\n"
    assert engine.digest == "sha256:" + hashlib.sha256(served.encode()).hexdigest()
    assert engine.commit == "unknown"  # the scratch folder is no git checkout
    assert "deploy/staging/release.yaml: written (2 images by digest); commit it" in said


def test_push_of_nothing_or_of_an_image_never_built_is_refused_before_any_call(
    cloud_fakes: Path, work: Path
) -> None:
    with pytest.raises(StackError) as nothing:
        cloud.push("dev", [], REGISTRY, work / "pushed")
    assert nothing.value.message == "no built image recorded for any service in .build/dev/images/"
    assert nothing.value.fix == "run `doit images env=dev` first"
    write_ref("dev", "engine", "shop/engine:1a2b")
    with pytest.raises(StackError) as missing:
        cloud.push("dev", ["engine", "bootstrap", "web"], REGISTRY, work / "pushed")
    assert missing.value.message == "no built image recorded for bootstrap, web in .build/dev/images/"
    assert calls(cloud_fakes) == []
    assert not (work / "pushed").exists()


@pytest.fixture
def on_amd64(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("platform.machine", lambda: "x86_64")


TWO = ("linux/amd64", "linux/arm64")


def test_push_for_two_platforms_sends_each_image_then_one_manifest_list_and_pins_the_list(
    cloud_fakes: Path, work: Path, on_amd64: None, capsys: pytest.CaptureFixture[str]
) -> None:
    write_ref("prod", "engine", "shop/engine:aaaaaaaaaaaa")
    write_ref("prod", "engine", "shop/engine:bbbbbbbbbbbb", images="images-arm64")
    cloud.push("prod", ["engine"], REGISTRY, work / "pushed", TWO)
    tag = images.list_tag(
        {"linux/amd64": "shop/engine:aaaaaaaaaaaa", "linux/arm64": "shop/engine:bbbbbbbbbbbb"}
    )
    listed = f"{REGISTRY}/shop/engine:{tag}"
    inspect = ["skopeo", "inspect", "--raw", "--retry-times", "2"]
    amd64, arm64 = f"{REGISTRY}/shop/engine:aaaaaaaaaaaa", f"{REGISTRY}/shop/engine:bbbbbbbbbbbb"
    assert [c for c in calls(cloud_fakes) if c[0] != "git"] == [
        [*inspect, f"docker://{amd64}"],
        ["docker", "tag", "shop/engine:aaaaaaaaaaaa", amd64],
        ["docker", "push", amd64],
        [*inspect, f"docker://{amd64}"],
        [*inspect, f"docker://{arm64}"],
        ["docker", "tag", "shop/engine:bbbbbbbbbbbb", arm64],
        ["docker", "push", arm64],
        [*inspect, f"docker://{arm64}"],
        [*inspect, f"docker://{listed}"],
        ["docker", "manifest", "create", "--amend", listed, amd64, arm64],  # ECR: TLS
        ["docker", "manifest", "push", "--purge", listed],
        [*inspect, f"docker://{listed}"],
    ]
    assert (work / "pushed" / "engine.ref").read_text() == listed + "\n"
    record = release_record.read("prod")
    assert record is not None
    served = json.dumps({"fake": listed}) + "\n"
    assert record.images["engine"].digest == "sha256:" + hashlib.sha256(served.encode()).hexdigest()
    said = capsys.readouterr().out
    assert f"{listed}: manifest list of linux/amd64, linux/arm64 pushed" in said
    # Again: the images and the list are in the registry; nothing is sent, nothing is made.
    before = len(calls(cloud_fakes))
    cloud.push("prod", ["engine"], REGISTRY, work / "pushed", TWO)
    assert [c[:2] for c in calls(cloud_fakes)[before:] if c[0] == "docker"] == []
    assert f"{listed}: manifest list already in the registry" in capsys.readouterr().out


def test_a_list_on_a_loopback_registry_is_made_over_plain_http(
    cloud_fakes: Path, work: Path, on_amd64: None
) -> None:
    write_ref("dev", "engine", "shop/engine:aaaaaaaaaaaa")
    write_ref("dev", "engine", "shop/engine:bbbbbbbbbbbb", images="images-arm64")
    cloud.push("dev", ["engine"], "127.0.0.1:5000/dev", work / "pushed", TWO)
    made = [c for c in calls(cloud_fakes) if c[:2] == ["docker", "manifest"]]
    assert [c[:4] for c in made] == [
        ["docker", "manifest", "create", "--insecure"],
        ["docker", "manifest", "push", "--insecure"],
    ]


def test_a_platform_never_built_is_refused_before_any_call_with_its_folder(
    cloud_fakes: Path, work: Path, on_amd64: None
) -> None:
    write_ref("prod", "engine", "shop/engine:aaaaaaaaaaaa")
    with pytest.raises(StackError) as missing:
        cloud.push("prod", ["engine"], REGISTRY, work / "pushed", TWO)
    assert missing.value.message == "no built image recorded for engine in .build/prod/images-arm64/"
    assert missing.value.fix == "run `doit images env=prod` first"
    assert calls(cloud_fakes) == []


def test_listing_only_the_hosts_platform_pushes_the_image_itself(
    cloud_fakes: Path, work: Path, on_amd64: None
) -> None:
    write_ref("prod", "engine", "shop/engine:aaaaaaaaaaaa")
    cloud.push("prod", ["engine"], REGISTRY, work / "pushed", ("linux/amd64",))
    assert not [c for c in calls(cloud_fakes) if c[:2] == ["docker", "manifest"]]
    assert (work / "pushed" / "engine.ref").read_text() == f"{REGISTRY}/shop/engine:aaaaaaaaaaaa\n"
