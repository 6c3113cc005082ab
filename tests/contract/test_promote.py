"""`doit promote from=<env> to=<env>` in a copy of the project (its environments name ECR, so the
fake skopeo of testing/fakes stands in for it; the real registry is tests/unit/ops/test_promote.py
and tests/integration/test_registry_release.py): the staging record is written from dev's by
digest; two promotes at once take turns; a Ctrl-C leaves no record; a promote without its
environments says how to name them; a malformed source record is named with file, key and line."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tasks.config import load as config
from tasks.ops import release_record as rr
from testing import harness, releases
from testing.fakes import skopeo as fake_skopeo
from testing.processes import Doit
from testing.project import run_doit


@pytest.fixture
def released(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fake skopeo first on PATH; dev's record names each image by the digest it serves."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_skopeo.install(bin_dir, tmp_path / "ecr")
    monkeypatch.setenv("PATH", harness.fake_path(bin_dir))
    monkeypatch.chdir(project)
    releases.pin(config.load("dev", project), "v1")
    return project


def test_promote_writes_the_target_record_by_digest(released: Path) -> None:
    result = run_doit(released, "promote", "from=dev", "to=staging")
    assert result.code == 0, result.out
    dev, staging = rr.read("dev"), rr.read("staging")
    assert dev is not None and staging is not None
    assert staging.images == {n: i for n, i in dev.images.items() if n in staging.images}
    assert "deploy/staging/release.yaml: rewritten" in result.out and "nothing built" in result.out


def test_two_promotes_at_once_take_turns(released: Path) -> None:
    first = Doit(released, "promote", "from=dev", "to=staging")
    first.wait_for("promote")
    second = Doit(released, "promote", "from=dev", "to=staging")
    results = [first.finish(), second.finish()]
    assert [code for code, _ in results] == [0, 0], results
    assert rr.read("staging") is not None  # whole, whichever wrote last


def test_a_ctrl_c_during_the_promote_leaves_no_target_record(
    released: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SKOPEO_SLOW", "3")
    run = Doit(released, "promote", "from=dev", "to=staging")
    run.wait_for("already there")
    run.process.send_signal(signal.SIGINT)
    code, out = run.finish()
    assert code != 0 and "Traceback" not in out, out
    assert not rr.path("staging").exists()


def test_a_promote_without_its_environments_says_how_to_name_them(released: Path) -> None:
    result = run_doit(released, "promote", "to=staging")
    assert result.code != 0
    assert "promote needs from=<env> and to=<env>" in result.out
    assert "cloud environments: dev, prod, staging" in result.out
    nowhere = run_doit(released, "promote", "from=dev", "to=local")
    assert "local is not a cloud environment" in nowhere.out


def test_a_malformed_source_record_is_named_with_file_key_and_line(released: Path) -> None:
    path = rr.path("dev")
    path.write_text(path.read_text().replace("    digest: sha256:", "    digest: sha1:", 1))
    result = run_doit(released, "promote", "from=dev", "to=staging")
    assert result.code != 0 and "Traceback" not in result.out
    assert "File deploy/dev/release.yaml, line 8\n==> At images.bootstrap.digest" in result.out
    assert not rr.path("staging").exists()


def test_the_dashed_spelling_names_the_environments_and_a_protected_target_needs_confirm(
    released: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)  # in CI the guard lets a promote through by design
    dashed = run_doit(released, "promote", "--from=dev", "--to", "staging")
    assert dashed.code == 0, dashed.out
    assert rr.read("staging") is not None
    unconfirmed = run_doit(released, "promote", "--from=dev", "--to=prod")
    assert unconfirmed.code != 0
    assert "prod is a protected environment" in unconfirmed.out and "confirm=prod" in unconfirmed.out
    assert not rr.path("prod").exists()
    dashed_confirm = run_doit(released, "promote", "--from=dev", "--to=prod", "--confirm=prod")
    assert dashed_confirm.code != 0 and "write `confirm=prod` without dashes" in dashed_confirm.out
    assert not rr.path("prod").exists()
    confirmed = run_doit(released, "promote", "--from=dev", "--to=prod", "confirm=prod")
    assert confirmed.code == 0, confirmed.out
    assert rr.read("prod") is not None
    twice = run_doit(released, "promote", "--to=prod", "to=staging", "from=dev")
    assert twice.code != 0 and "to= is given twice" in twice.out


def test_a_file_where_the_target_folder_goes_is_one_sentence_with_a_fix(released: Path) -> None:
    Path("deploy/prod").write_text("in the way\n")
    result = run_doit(released, "promote", "from=dev", "to=prod", "confirm=prod")
    assert result.code == 1 and "Traceback" not in result.out, result.out
    assert "cannot write the release record deploy/prod/release.yaml" in result.out
    assert "make deploy/prod/ a writable folder" in result.out


def test_a_source_image_in_another_registry_is_refused_before_any_copy(released: Path) -> None:
    path = rr.path("dev")
    record = rr.read("dev")
    assert record is not None
    name, image = sorted(record.images.items())[0]
    foreign = rr.Image("127.0.0.1:15123/other/" + name, image.digest, image.commit)
    rr.write(rr.Record("dev", {**record.images, name: foreign}))
    result = run_doit(released, "promote", "from=dev", "to=staging")
    assert result.code == 1 and "Traceback" not in result.out, result.out
    assert f"{path.as_posix()}: {name} not in dev's registry" in result.out
    assert "nothing was copied" in result.out and "invalid reference format" not in result.out
    assert not rr.path("staging").exists()


def test_a_malformed_target_record_is_overwritten_with_a_note(released: Path) -> None:
    target = rr.path("staging")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("env: staging\n")
    result = run_doit(released, "promote", "from=dev", "to=staging")
    assert result.code == 0, result.out
    assert "deploy/staging/release.yaml is malformed (at images:" in result.out
    assert "promote writes it anew" in result.out
    assert rr.read("staging") is not None
    again = run_doit(released, "promote", "from=dev", "to=staging")
    assert "unchanged" in again.out and "nothing to commit" in again.out and "commit it" not in again.out


def test_the_removed_release_export_points_to_promote(released: Path) -> None:
    result = run_doit(released, "release_export:prod")
    assert result.code != 0 and "Traceback" not in result.out
    assert "there is no task 'release_export:prod' any more" in result.out
    assert "doit promote from=<env> to=<env>" in result.out and "docs/upgrading.md" in result.out
