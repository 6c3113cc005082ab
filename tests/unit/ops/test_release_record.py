"""tasks/ops/release_record.py: the committed release record, written and read back, every way
a hand edit can break it (file, key, line and fix named), and what a deploy pins from it, with
each digest checked in a real registry (testing/registry.py) before anything is applied."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from tasks.errors import ConfigError, StackError
from tasks.ops import release_record as rr
from testing import cloudenv, oci
from testing.registry import Registry, registry

__all__ = ["registry"]  # the fixture

DIGEST = "sha256:" + "ab" * 32
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def _record(**images: rr.Image) -> rr.Record:
    return rr.Record("dev", dict(images))


def test_a_written_record_reads_back_the_same_and_says_what_it_is(work: Path) -> None:
    record = _record(engine=rr.Image("reg.io/shop/engine", DIGEST, "0" * 40))
    assert rr.write(record) is True
    assert rr.write(record) is False  # same bytes: the file is left alone
    text = (work / "deploy/dev/release.yaml").read_text()
    assert text.startswith("# The release of dev: what `doit deploy:dev` applies")
    assert "`git log deploy/dev/release.yaml` is the deployment history" in text
    assert rr.read("dev") == record  # an all-digit commit stays text
    assert record.refs("reg.io/") == {"engine": f"shop/engine@{DIGEST}"}


def test_no_record_is_none_and_a_required_one_says_how_to_make_it(work: Path) -> None:
    assert rr.read("dev") is None
    with pytest.raises(StackError) as info:
        rr.required("dev", how=rr.how("dev"))
    assert info.value.message == "dev has no release record (deploy/dev/release.yaml is missing)"
    assert info.value.fix == (
        "run `doit push:dev` (or `doit promote from=<env> to=dev`) and commit deploy/dev/release.yaml"
    )


GOOD = f"""env: dev
images:
  engine:
    repository: reg.io/shop/engine
    digest: {DIGEST}
    commit: "{COMMIT}"
"""


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "problem", "fix"),
    [
        ("env: dev", "env: prod", 1, "env", "`env` must be 'dev', the folder's name, not 'prod'", "restore"),
        (f"digest: {DIGEST}", "digest: sha256:abc", 5, "images.engine.digest", "is not a digest", "64"),
        ("    commit:", "    comit:", 6, "images.engine.comit", "unknown key 'comit'", "keep only"),
        (f'commit: "{COMMIT}"', "commit: 1234567", 6, "images.engine.commit", "is not text", "quote it"),
        ("shop/engine\n", "shop/engine:1\n", 4, "images.engine.repository", "has a tag", "repository alone"),
        (
            "  engine:\n",
            "  engine: latest\n  web:\n",
            3,
            "images.engine",
            "each image is a mapping",
            "restore",
        ),
        ("images:", "images: [", 4, "", "malformed YAML", "fix the YAML syntax"),  # where YAML notices
        ("images:", "imgaes:", 2, "imgaes", "unknown key 'imgaes'", "did you mean 'images'?"),
    ],
)
def test_a_malformed_record_names_file_key_line_and_fix(
    work: Path, old: str, new: str, line: int, key: str, problem: str, fix: str
) -> None:
    path = work / "deploy/dev/release.yaml"
    path.parent.mkdir(parents=True)
    assert old in GOOD
    path.write_text(GOOD.replace(old, new))
    with pytest.raises(ConfigError) as info:
        rr.read("dev")
    err = info.value
    assert (err.file, err.keypath, err.line) == ("deploy/dev/release.yaml", key, line)
    assert problem in err.problem and fix in str(err.fix)


def test_an_empty_record_says_it_is_empty(work: Path) -> None:
    path = work / "deploy/dev/release.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("# nothing yet\n")
    with pytest.raises(ConfigError) as info:
        rr.read("dev")
    assert (info.value.file, info.value.problem) == ("deploy/dev/release.yaml", "the file is empty")
    assert info.value.fix == (
        "restore it with `git checkout -- deploy/dev/release.yaml`, or delete it and write it again "
        "(`doit push:dev`, or `doit promote from=<env> to=dev`)"
    )


def test_a_record_that_cannot_be_written_is_one_error_naming_the_path_and_a_fix(work: Path) -> None:
    (work / "deploy").mkdir()
    (work / "deploy/dev").write_text("in the way\n")
    with pytest.raises(StackError) as info:
        rr.write(_record(engine=rr.Image("reg.io/shop/engine", DIGEST, COMMIT)))
    assert "cannot write the release record deploy/dev/release.yaml" in info.value.message
    assert "make deploy/dev/ a writable folder" in str(info.value.fix)
    assert (work / "deploy/dev").read_text() == "in the way\n"


def test_a_missing_field_is_named_at_its_image(work: Path) -> None:
    path = work / "deploy/dev/release.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(GOOD.replace(f"    digest: {DIGEST}\n", ""))
    with pytest.raises(ConfigError) as info:
        rr.read("dev")
    assert (info.value.keypath, info.value.line, info.value.problem) == (
        "images.engine",
        3,
        "`digest` is missing",
    )


def _push(reg: Registry, tmp_path: Path, repo: str, content: str) -> rr.Image:
    from tasks.programs import skopeo

    oci.upload(oci.layout(tmp_path / content, content), f"{reg.host}/dev/{repo}:1")
    digest = skopeo.digest(f"{reg.host}/dev/{repo}:1")
    assert digest is not None
    return rr.Image(f"{reg.host}/dev/{repo}", digest, COMMIT)


def test_what_a_deploy_pins_is_every_image_by_its_registry_digest(
    work: Path, registry: Registry, tmp_path: Path
) -> None:
    cfg = cloudenv.at("dev", f"{registry.host}/dev")
    names = cfg.cluster_images()
    images = {n: _push(registry, tmp_path, n, f"content of {n}") for n in names}
    rr.write(rr.Record("dev", images))
    pinned = rr.pinned("dev", f"{registry.host}/dev", names)
    assert pinned == {n: f"{n}@{images[n].digest}" for n in names}


def test_a_digest_the_registry_lacks_is_refused_and_named(
    work: Path, registry: Registry, tmp_path: Path
) -> None:
    present = _push(registry, tmp_path, "engine", "engine")
    lost = rr.Image(f"{registry.host}/dev/web", "sha256:" + hashlib.sha256(b"lost").hexdigest(), COMMIT)
    rr.write(rr.Record("dev", {"engine": present, "web": lost}))
    with pytest.raises(StackError) as info:
        rr.pinned("dev", f"{registry.host}/dev", ["engine", "web"])
    assert info.value.message == (
        f"the registry lacks 1 image(s) deploy/dev/release.yaml names: {lost.reference}; nothing was applied"
    )
    assert "revert deploy/dev/release.yaml to a release the registry holds" in str(info.value.fix)


def test_a_record_without_an_image_or_in_another_registry_is_refused(work: Path) -> None:
    rr.write(_record(engine=rr.Image("other.io/shop/engine", DIGEST, COMMIT)))
    with pytest.raises(StackError, match="deploy/dev/release.yaml names no image for web"):
        rr.pinned("dev", "reg.io", ["engine", "web"])
    with pytest.raises(StackError) as info:
        rr.pinned("dev", "reg.io", ["engine"])
    assert (
        info.value.message
        == "deploy/dev/release.yaml: engine not in dev's registry reg.io (other.io/shop/engine)"
    )
    assert rr.recorded("dev", "other.io") == {"engine": f"shop/engine@{DIGEST}"}


def test_the_record_is_written_with_its_kustomization_pinning_each_image_by_digest(work: Path) -> None:
    other = "sha256:" + "cd" * 32
    record = _record(
        engine=rr.Image("reg.io/shop/engine", DIGEST, COMMIT), web=rr.Image("reg.io/shop/web", other, COMMIT)
    )
    rr.write(record)
    text = (work / "deploy/dev/kustomization.yaml").read_text()
    assert text == rr.kustomization(record)
    assert text.startswith("# deploy/dev/release.yaml as kustomize reads it: k8s/overlays/dev")
    doc = yaml.safe_load(text)
    assert doc["resources"] == ["../../k8s/overlays/dev"]
    assert doc["images"] == [
        {"name": "reg.io/shop/engine", "digest": DIGEST},
        {"name": "reg.io/shop/web", "digest": other},
    ]
    rr.write(_record(engine=rr.Image("reg.io/shop/engine", other, COMMIT)))  # the two change together
    assert yaml.safe_load(rr.kustomization_path("dev").read_text())["images"] == [
        {"name": "reg.io/shop/engine", "digest": other}
    ]
