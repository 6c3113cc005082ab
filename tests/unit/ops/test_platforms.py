"""tasks/ops/platforms.py: the host's platform, the foreign ones an environment lists, and which of
them this machine can run (a scratch folder stands in for binfmt_misc)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tasks.model import Config
from tasks.ops import platforms
from testing.configs import cloud, config


def local() -> Config:
    return config("dev", [], [])


def listing(*names: str, env: Config | None = None) -> Config:
    cfg = env or local()
    return dataclasses.replace(cfg, images=dataclasses.replace(cfg.images, platforms=names))


@pytest.fixture
def on_amd64(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("platform.machine", lambda: "x86_64")


@pytest.fixture
def binfmt(tmp_path: Path) -> Path:
    folder = tmp_path / "binfmt_misc"
    folder.mkdir()
    return folder


@pytest.mark.parametrize(
    ("machine", "platform"),
    [
        ("x86_64", "linux/amd64"),
        ("aarch64", "linux/arm64"),
        ("arm64", "linux/arm64"),
        ("riscv64", "linux/riscv64"),
    ],
)
def test_the_host_is_named_as_docker_names_platforms(
    machine: str, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("platform.machine", lambda: machine)
    assert platforms.host() == platform


def test_an_environment_listing_no_platform_pushes_the_hosts(on_amd64: None) -> None:
    assert platforms.pushed(local()) == ("linux/amd64",)
    assert platforms.foreign(local()) == ()
    two = listing("linux/arm64", "linux/amd64")
    assert platforms.pushed(two) == ("linux/arm64", "linux/amd64")
    assert platforms.foreign(two) == ("linux/arm64",)


ENTRY = "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\noffset 0\n"


def test_a_platform_is_emulated_only_with_its_qemu_entry_enabled(binfmt: Path) -> None:
    assert platforms.emulated("linux/arm64", binfmt) is False  # no entry
    (binfmt / "qemu-aarch64").write_text(ENTRY.replace("enabled", "disabled"))
    assert platforms.emulated("linux/arm64", binfmt) is False
    (binfmt / "qemu-aarch64").write_text(ENTRY)
    assert platforms.emulated("linux/arm64", binfmt) is True
    assert platforms.emulated("linux/amd64", binfmt) is False  # another entry
    assert platforms.emulated("linux/s390x", binfmt) is False  # no qemu name known: never the folder
    (binfmt / "qemu-x86_64").mkdir()  # unreadable as a file
    assert platforms.emulated("linux/amd64", binfmt) is False


def test_an_entry_without_the_fix_binary_flag_cannot_build_in_a_container(binfmt: Path) -> None:
    # Without F the kernel looks qemu up in the container's own files, where it is not: every
    # RUN step of a foreign build would fail, so the platform is not buildable here.
    (binfmt / "qemu-aarch64").write_text(ENTRY.replace("flags: PF", "flags: P"))
    assert platforms.emulated("linux/arm64", binfmt) is False
    (binfmt / "qemu-aarch64").write_text(ENTRY.replace("flags: PF\n", ""))
    assert platforms.emulated("linux/arm64", binfmt) is False
    (binfmt / "qemu-aarch64").write_text(ENTRY.replace("flags: PF", "flags: OCF"))
    assert platforms.emulated("linux/arm64", binfmt) is True


def test_unbuildable_is_the_foreign_platforms_without_emulation(on_amd64: None, binfmt: Path) -> None:
    two = listing("linux/amd64", "linux/arm64")
    assert platforms.unbuildable(two, binfmt) == ("linux/arm64",)
    (binfmt / "qemu-aarch64").write_text(ENTRY)
    assert platforms.unbuildable(two, binfmt) == ()
    assert platforms.unbuildable(local(), binfmt) == ()


def test_a_cloud_environment_that_cannot_be_built_is_refused_with_the_fix(
    on_amd64: None, tmp_path: Path
) -> None:
    # Its files are gone (the refusal is made while a run goes on): said without the line.
    prod = listing(
        "linux/amd64", "linux/arm64", env=config("prod", [], [], runtime="kubernetes", cloud=cloud())
    )
    err = platforms.refuse_unbuildable(prod, ("linux/arm64",), tmp_path)
    assert err.message == (
        "environment prod lists images.platforms linux/amd64, linux/arm64, but this machine "
        "(linux/amd64) cannot run linux/arm64 programs: no enabled qemu entry with the F "
        "(fix-binary) flag in /proc/sys/fs/binfmt_misc"
    )
    assert err.fix is not None and err.fix.startswith(platforms.EMULATION_FIX)
    assert err.fix.endswith("remove linux/arm64 from images.platforms")
    assert "apt-get install qemu-user-static binfmt-support" in platforms.EMULATION_FIX
    assert "docker/setup-qemu-action" in platforms.EMULATION_FIX


def test_a_local_environment_is_told_once_what_it_builds_and_how_to_build_more(on_amd64: None) -> None:
    note = platforms.host_only_note(listing("linux/amd64", "linux/arm64"), ("linux/arm64",))
    assert note.startswith("linux/arm64 not built: this machine (linux/amd64) cannot run their programs")
    assert "building linux/amd64 only" in note and platforms.EMULATION_FIX in note
