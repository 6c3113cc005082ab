"""tasks/programs/debootstrap.py: a minimal Debian root file system, against a scripted fake
`debootstrap` first on PATH (the real one needs root and a mirror)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import ToolError
from tasks.programs import debootstrap
from testing.dockerd import DEBOOTSTRAP
from testing.harness import FakeBin


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fakebin: FakeBin) -> Path:
    fakebin.activate(monkeypatch)
    monkeypatch.chdir(tmp_path)  # .build/logs/ is relative
    return tmp_path


def test_minbase_makes_the_suite_in_the_root_with_debootstraps_own_mirror(
    work: Path, fakebin: FakeBin, capsys: pytest.CaptureFixture[str]
) -> None:
    fakebin.script("debootstrap", DEBOOTSTRAP)
    debootstrap.minbase("bookworm", work / "root", prefix="base")
    # No mirror argument: nothing site-specific is written here.
    assert fakebin.argvs("debootstrap") == [["--variant=minbase", "bookworm", str(work / "root")]]
    assert (work / "root/etc/debian_version").read_text() == "bookworm\n"
    assert "[base] done" in capsys.readouterr().out


def test_a_failed_debootstrap_is_a_tool_error_with_its_last_words(work: Path, fakebin: FakeBin) -> None:
    fakebin.script("debootstrap", "echo 'E: Failed getting release file' >&2\nexit 1\n")
    with pytest.raises(ToolError) as failed:
        debootstrap.minbase("bookworm", work / "root", prefix="base")
    assert failed.value.code == 1 and failed.value.cmd[:2] == ["debootstrap", "--variant=minbase"]
    assert "E: Failed getting release file" in str(failed.value)


def test_another_architecture_is_asked_for_by_name(work: Path, fakebin: FakeBin) -> None:
    fakebin.script("debootstrap", DEBOOTSTRAP)
    debootstrap.minbase("bookworm", work / "root", prefix="base", arch="arm64")
    assert fakebin.argvs("debootstrap") == [
        ["--variant=minbase", "--arch=arm64", "bookworm", str(work / "root")]
    ]
    assert (work / "root/etc/arch").read_text() == "arm64\n"
