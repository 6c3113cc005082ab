"""tasks/ops/checkov.py: the documented suppressions of .checkov.yaml, one scan per framework, one
verdict, and the record of whether checkov ran, against a recording fake `checkov` first on PATH
(testing/cloudcli.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.ops import checkov
from tasks.store import state
from testing.cloudcli import calls, cloud_fakes

__all__ = ["cloud_fakes"]  # the fixture

SCANS = [
    ("terraform", ["-d", "terraform", "--framework", "terraform"]),
    ("kubernetes", ["--framework", "kubernetes", "-f", ".build/manifests/dev.yaml"]),
]


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch folder with a .checkov.yaml that skips one check, with its reason."""
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / ".checkov.yaml").write_text("skip-check:\n  - CKV_X_9  # safe by design here\n")
    monkeypatch.chdir(folder)
    return folder


MODE = Path(".build/checkov.mode")


def test_skip_list_ends_at_the_next_key_and_counts_lines_from_one() -> None:
    text = "skip-check:\n  - CKV_K8S_8  # probes are the app's choice\nframework:\n  - kubernetes\n"
    assert checkov.documented_skips(text) == {"CKV_K8S_8": "probes are the app's choice"}
    with pytest.raises(StackError, match=r"line 3: cannot read skip entry '- kubernetes'"):
        checkov.documented_skips("quiet: true\nskip-check:\n  - kubernetes\n")
    with pytest.raises(StackError, match=r"line 2: CKV_K8S_8 is skipped without a reason"):
        checkov.documented_skips("skip-check:\n  - CKV_K8S_8  # two words\n")
    # Three words are a reason.
    assert checkov.documented_skips("skip-check :\n  - CKV_K8S_8 # one two three\n") == {
        "CKV_K8S_8": "one two three"
    }


def test_every_skip_needs_a_reason() -> None:
    text = "quiet: true\nskip-check:\n  - CKV_K8S_15  # immutable content tags make Always pointless\n"
    assert checkov.documented_skips(text) == {"CKV_K8S_15": "immutable content tags make Always pointless"}
    with pytest.raises(StackError, match="CKV_K8S_35 is skipped without a reason") as failed:
        checkov.documented_skips("skip-check:\n  - CKV_K8S_35\n")
    assert failed.value.fix == "add `# <why this is safe>` after CKV_K8S_35, or fix the finding"


def test_a_run_scans_each_framework_says_what_it_skipped_and_records_that_it_ran(
    cloud_fakes: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkov.run(SCANS, config=Path(".checkov.yaml"), mode=MODE)
    out = capsys.readouterr().out
    assert "  skipping CKV_X_9: safe by design here" in out
    assert "  checkov terraform: Passed checks: 4, Failed checks: 0, Skipped checks: 0 (" in out
    assert "  checkov kubernetes: Passed checks: 4, Failed checks: 0, Skipped checks: 0 (" in out
    assert [argv[:4] for argv in calls(cloud_fakes)] == [
        ["checkov", "-d", "terraform", "--framework"],
        ["checkov", "--framework", "kubernetes", "-f"],
    ]
    assert MODE.read_text() == "ran\n"


def test_a_run_without_a_config_file_skips_nothing(
    cloud_fakes: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkov.run(SCANS[:1], config=Path("absent.yaml"), mode=MODE)
    assert "skipping" not in capsys.readouterr().out
    assert MODE.read_text() == "ran\n"


def test_findings_are_reported_per_framework_and_forget_an_earlier_pass(
    cloud_fakes: Path, work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    checkov.run(SCANS, config=Path(".checkov.yaml"), mode=MODE)
    assert MODE.read_text() == "ran\n"
    changed_inputs()  # what passed is remembered by content: give both scans new content
    monkeypatch.setenv("FAKE_CHECKOV_FAIL", "kubernetes")
    monkeypatch.setenv("FAKE_CHECKOV_SILENT", "terraform")
    with pytest.raises(StackError) as failed:
        checkov.run(SCANS, config=Path(".checkov.yaml"), mode=MODE)
    assert failed.value.message == (
        "checkov found problems:\n[kubernetes]\n"
        "Passed checks: 4, Failed checks: 1, Skipped checks: 0\nCheck: CKV_X_1: kubernetes"
    )
    assert "suppress it next to the resource with a reason that is true" in str(failed.value.fix)
    assert "  checkov terraform: no summary (" in capsys.readouterr().out
    assert not MODE.exists()  # the next run checks again


def changed_inputs(text: str = "# changed\n") -> None:
    Path("terraform").mkdir(exist_ok=True)
    Path("terraform/main.tf").write_text(text)
    Path(".build/manifests").mkdir(parents=True, exist_ok=True)
    Path(".build/manifests/dev.yaml").write_text(f"kind: ConfigMap\n{text}")


def test_a_scan_whose_inputs_passed_before_does_not_run_again(
    cloud_fakes: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changed_inputs()
    checkov.run(SCANS, config=Path(".checkov.yaml"), mode=MODE)
    assert len(calls(cloud_fakes)) == 2
    checkov.run(SCANS, config=Path(".checkov.yaml"), mode=MODE)
    assert len(calls(cloud_fakes)) == 2  # nothing changed: nothing scanned
    out = capsys.readouterr().out
    assert "  checkov terraform: unchanged since it passed" in out
    assert "  checkov kubernetes: unchanged since it passed" in out
    assert MODE.read_text() == "ran\n"
    Path(".build/manifests/dev.yaml").write_text("kind: ConfigMap\n# one value changed\n")
    checkov.run(SCANS, config=Path(".checkov.yaml"), mode=MODE)
    assert [argv[:3] for argv in calls(cloud_fakes)[2:]] == [["checkov", "--framework", "kubernetes"]]


def test_a_scan_that_failed_runs_again_and_one_that_passed_beside_it_does_not(
    cloud_fakes: Path, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    changed_inputs()
    monkeypatch.setenv("FAKE_CHECKOV_FAIL", "kubernetes")
    with pytest.raises(StackError):
        checkov.run(SCANS, config=Path(".checkov.yaml"), mode=MODE)
    monkeypatch.delenv("FAKE_CHECKOV_FAIL")
    checkov.run(SCANS, config=Path(".checkov.yaml"), mode=MODE)
    assert [argv[:3] for argv in calls(cloud_fakes)[2:]] == [["checkov", "--framework", "kubernetes"]]


def test_a_changed_config_scans_everything_again(cloud_fakes: Path, work: Path) -> None:
    changed_inputs()
    checkov.run(SCANS, config=Path(".checkov.yaml"), mode=MODE)
    Path(".checkov.yaml").write_text("skip-check:\n  - CKV_X_8  # also safe by design here\n")
    checkov.run(SCANS, config=Path(".checkov.yaml"), mode=MODE)
    assert len(calls(cloud_fakes)) == 4


def test_an_unwritable_record_of_passed_scans_is_a_note(
    cloud_fakes: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = state.checkov_passed()
    record.mkdir(parents=True)
    checkov.run(SCANS, config=Path(".checkov.yaml"), mode=MODE, record=record)
    assert "could not be written: the next run scans terraform again" in capsys.readouterr().err
    assert MODE.read_text() == "ran\n"
    checkov.run(SCANS, config=Path(".checkov.yaml"), mode=MODE, record=record)
    assert len(calls(cloud_fakes)) == 4


def test_checkov_missing_under_ci_in_any_spelling_fails(
    work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    for spelling in ("true", "TRUE", "True"):
        monkeypatch.setenv("CI", spelling)
        with pytest.raises(StackError) as failed:
            checkov.run(SCANS, config=Path(".checkov.yaml"), mode=MODE)
        assert failed.value.message == "checkov is not installed, and CI must run it"
        assert failed.value.fix == checkov.INSTALL
        assert not MODE.exists()


def test_checkov_missing_locally_warns_loudly_and_records_a_skip(
    work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    for ci in ("false", None):
        if ci is None:
            monkeypatch.delenv("CI", raising=False)
        else:
            monkeypatch.setenv("CI", ci)
        checkov.run(SCANS, config=Path(".checkov.yaml"), mode=MODE)
        out = capsys.readouterr().out
        assert f"{'!' * 100}\n  SKIPPED: {checkov.SKIPPED}\n{'!' * 100}" in out
        assert "skipping CKV_X_9" not in out  # nothing ran, so nothing was skipped
        assert MODE.read_text() == "skipped\n"
