"""tasks/ops/promote.py against a real registry (testing/registry.py) and the real skopeo, every
call of docker and skopeo counted (testing/recorder.py): a release copied by digest between two
environments' repositories with no build, the target record rewritten and nothing else, and the
refusals (a digest the registry lacks, a registry that is down, a copy that fails)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tasks.errors import StackError, ToolError
from tasks.model import Config
from tasks.ops import promote
from tasks.ops import release_record as rr
from tasks.programs import skopeo
from testing import cloudenv, oci, recorder
from testing.registry import Registry, registry

__all__ = ["registry"]  # the fixture

COMMIT = "1111111111111111111111111111111111111111"


@pytest.fixture
def envs(registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Config, Config]:
    """dev and staging, each with its own repositories in the test's registry."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return cloudenv.at("dev", f"{registry.host}/dev"), cloudenv.at("staging", f"{registry.host}/staging")


def _release(cfg: Config, tmp_path: Path, version: str, commit: str = COMMIT) -> rr.Record:
    """Upload one small image per cluster image of `cfg` and record it (as `doit push` would)."""
    assert cfg.cloud is not None
    pinned = {}
    for name in cfg.cluster_images():
        remote = f"{cfg.cloud.registry}/{name}:{version}"
        oci.upload(oci.layout(tmp_path / f"{name}-{version}", f"{name} {version}"), remote)
        digest = skopeo.digest(remote)
        assert digest is not None
        pinned[name] = rr.Image(f"{cfg.cloud.registry}/{name}", digest, commit)
    record = rr.Record(cfg.env, pinned)
    rr.write(record)
    return record


def test_promote_copies_by_digest_and_rewrites_only_the_target_record(
    envs: tuple[Config, Config], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev, staging = envs
    source = _release(dev, tmp_path, "v1")
    dev_text = rr.path("dev").read_text()
    log = recorder.record(monkeypatch, tmp_path / "rec", "docker", "skopeo")
    promote.promote(dev, staging)
    assert recorder.calls(log, "docker") == []  # nothing built, tagged or pushed
    skopeo_calls = recorder.calls(log, "skopeo")
    assert {c.split()[1] for c in skopeo_calls} == {"inspect", "copy"}
    assert len([c for c in skopeo_calls if c.split()[1] == "copy"]) == len(source.images)
    target = rr.read("staging")
    assert target is not None
    for name, img in source.images.items():
        assert target.images[name].digest == img.digest and target.images[name].commit == img.commit
        assert target.images[name].repository == img.repository.replace("/dev/", "/staging/")
        assert skopeo.digest(target.images[name].reference) == img.digest  # really in staging's repo
    assert rr.path("dev").read_text() == dev_text  # the source record is only read
    # Again: everything is there already; nothing is copied and the record stays as it is.
    log.write_text("")
    promote.promote(dev, staging)
    assert [c for c in recorder.calls(log, "skopeo") if c.split()[1] == "copy"] == []


def test_a_new_release_changes_only_the_digests_and_commits_of_the_target_record(
    envs: tuple[Config, Config], tmp_path: Path
) -> None:
    dev, staging = envs
    _release(dev, tmp_path, "v1")
    promote.promote(dev, staging)
    before = rr.path("staging").read_text().splitlines()
    _release(dev, tmp_path, "v2", commit="2" * 40)
    promote.promote(dev, staging)
    after = rr.path("staging").read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed and all(a.split(":")[0] == b.split(":")[0] for a, b in changed)
    assert {a.split(":")[0].strip() for a, _ in changed} == {"digest", "commit"}


def test_a_digest_the_registry_lacks_is_refused_and_the_target_record_is_untouched(
    envs: tuple[Config, Config], tmp_path: Path
) -> None:
    dev, staging = envs
    record = _release(dev, tmp_path, "v1")
    name = sorted(record.images)[0]
    lost = "sha256:" + hashlib.sha256(b"never pushed").hexdigest()
    broken = rr.Image(record.images[name].repository, lost, COMMIT)
    rr.write(rr.Record("dev", {**record.images, name: broken}))
    with pytest.raises(StackError) as info:
        promote.promote(dev, staging)
    assert info.value.message == (
        f"the registry lacks {broken.reference}, which the source record names; nothing was copied for it"
    )
    assert not rr.path("staging").exists()


def test_a_registry_that_is_down_or_a_failing_copy_leaves_the_target_record_alone(
    envs: tuple[Config, Config], registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev, staging = envs
    _release(dev, tmp_path, "v1")
    recorder.record(monkeypatch, tmp_path / "failing", "skopeo", fail="copy")
    with pytest.raises(ToolError, match="injected failure of skopeo copy"):
        promote.promote(dev, staging)
    assert not rr.path("staging").exists()
    registry.stop()
    with pytest.raises(ToolError) as info:
        promote.promote(dev, staging)
    assert "is not reachable" in str(info.value.fix)
    assert not rr.path("staging").exists()


def test_promote_needs_a_source_record_and_two_environments(envs: tuple[Config, Config]) -> None:
    dev, staging = envs
    with pytest.raises(StackError, match=r"dev has no release record \(deploy/dev/release.yaml is missing\)"):
        promote.promote(dev, staging)
    with pytest.raises(StackError, match="from=dev and to=dev are the same environment") as same:
        promote.promote(dev, dev)
    assert "doit promote from=dev to=<another cloud environment>" in (same.value.fix or "")


def test_a_source_image_in_another_registry_or_account_is_refused_before_any_skopeo_call(
    envs: tuple[Config, Config], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev, staging = envs
    record = _release(dev, tmp_path, "v1")
    name = sorted(record.images)[0]
    other = record.images[name].repository.replace("/dev/", "/other/")
    rr.write(rr.Record("dev", {**record.images, name: rr.Image(other, record.images[name].digest, COMMIT)}))
    log = recorder.record(monkeypatch, tmp_path / "rec", "skopeo")
    with pytest.raises(StackError) as info:
        promote.promote(dev, staging)
    assert info.value.message.startswith(f"deploy/dev/release.yaml: {name} not in dev's registry")
    assert f"({other}); nothing was copied" in info.value.message
    assert recorder.calls(log, "skopeo") == [] and not rr.path("staging").exists()


def test_a_malformed_target_record_is_rewritten_from_the_source(
    envs: tuple[Config, Config], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev, staging = envs
    source = _release(dev, tmp_path, "v1")
    rr.path("staging").parent.mkdir(parents=True)
    rr.path("staging").write_text("env: staging\n")
    promote.promote(dev, staging)
    target = rr.read("staging")
    assert target is not None and {n: i.digest for n, i in target.images.items()} == {
        n: i.digest for n, i in source.images.items()
    }
    assert "NOTE: deploy/staging/release.yaml is malformed (at images:" in capsys.readouterr().err
