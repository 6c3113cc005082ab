"""tasks/ops/docker_images.py against the fake `docker` first on PATH (testing/fakes): build,
tag with the content tag, record; one listing per daemon per run; the debootstrap base."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import StackError, ToolError
from tasks.ops import docker_images
from tasks.store import state
from testing.dockerd import DEBOOTSTRAP, Daemon, context, daemon, fakes
from testing.harness import FakeBin

__all__ = ["daemon", "fakes"]  # the fixtures


def test_build_tags_with_the_content_tag_and_records_it(daemon: Daemon, tmp_path: Path) -> None:
    dockerfile, ctx = context(tmp_path)
    iid, ref = Path(".build/local/images/app.iid"), Path(".build/local/images/app.ref")
    assert docker_images.is_current(iid, ref, {}) is False  # never built
    assert daemon.calls() == []
    assert docker_images.present({}) == set()  # this run's listing, from before the build
    target = docker_images.build(
        "app",
        dockerfile=dockerfile,
        context=ctx,
        args={"B": "2", "A": "1"},
        repo="me/app",
        iid=iid,
        ref=ref,
        docker_env={},
        stage="runtime",
    )
    image_id = iid.read_text().strip()
    assert image_id.startswith("sha256:") and target == f"me/app:{image_id[7:19]}"
    assert ref.read_text() == target + "\n"
    assert not iid.with_suffix(".iid.tmp").exists()
    assert target in daemon.refs()
    assert state.built_refs() == {target}
    build = daemon.argvs()[1]
    # --force-rm: a failed step's container never stays behind on the shared daemon.
    assert build[:4] == ["build", "--force-rm", "-f", dockerfile]
    assert build[4:10] == ["--target", "runtime", "--build-arg", "A=1", "--build-arg", "B=2"]
    assert build[-1] == ctx
    # The listing asked before the build was forgotten: the new tag is seen.
    assert docker_images.is_current(iid, ref, {}) is True
    daemon.untag(target)
    docker_images.LISTINGS.forget()
    assert docker_images.is_current(iid, ref, {}) is False


def test_is_current_asks_the_daemon_once_per_run(daemon: Daemon, tmp_path: Path) -> None:
    iid, ref = tmp_path / "x.iid", tmp_path / "x.ref"
    image = daemon.add_image("me/x:0123456789ab")
    iid.write_text(image + "\n")
    ref.write_text("me/x:0123456789ab\n")
    assert docker_images.is_current(iid, ref, {}) is True
    assert docker_images.is_current(iid, ref, {}) is True
    assert len(daemon.argvs()) == 1
    assert docker_images.is_current(iid, ref, {"DOCKER_HOST": "tcp://other:2376"}) is False  # another daemon
    ref.unlink()
    assert docker_images.is_current(iid, ref, {}) is False


def test_is_current_is_false_when_the_daemon_cannot_answer(fakes: FakeBin, tmp_path: Path) -> None:
    fakes.script("docker", "echo 'Cannot connect to the Docker daemon at unix:///x' >&2; exit 1\n")
    iid, ref = tmp_path / "x.iid", tmp_path / "x.ref"
    iid.write_text("sha256:1\n")
    ref.write_text("me/x:1\n")
    assert docker_images.is_current(iid, ref, {}) is False


def test_a_debootstrap_base_is_imported_tagged_and_recorded(daemon: Daemon, fakes: FakeBin) -> None:
    fakes.script("debootstrap", DEBOOTSTRAP)
    iid, ref = Path(".build/offline/images/base.iid"), Path(".build/offline/images/base.ref")
    iid.parent.mkdir(parents=True)
    listed = docker_images.present({})  # a listing from before the import
    target = docker_images.debootstrap_base(
        "base", suite="bookworm", repo="me/base", iid=iid, ref=ref, docker_env={}
    )
    assert fakes.argvs("debootstrap")[0][:2] == ["--variant=minbase", "bookworm"]
    root = Path(fakes.argvs("debootstrap")[0][2])
    assert not root.exists()  # the root file system folder is removed
    imported = iid.read_text().strip()
    assert target == f"me/base:{imported[7:19]}" and ref.read_text() == target + "\n"
    assert {"me/base:bookworm", target} <= set(daemon.refs())
    assert state.built_refs() == {target}
    assert listed == set() and (imported, target) in docker_images.present({})


def test_a_failed_import_records_nothing(fakes: FakeBin, tmp_path: Path) -> None:
    fakes.script("debootstrap", DEBOOTSTRAP)
    fakes.script("docker", "cat > /dev/null; echo 'not an id'\n")
    iid, ref = tmp_path / "base.iid", tmp_path / "base.ref"
    with pytest.raises(StackError, match="docker import printed no image ID: 'not an id'"):
        docker_images.debootstrap_base(
            "base", suite="bookworm", repo="me/base", iid=iid, ref=ref, docker_env={}
        )
    assert not iid.exists() and not ref.exists()
    assert [argv[0] for argv in fakes.argvs("docker")] == ["import"]


def test_debootstrap_missing_is_an_install_hint(
    fakes: FakeBin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", fakes.path(base=""))
    with pytest.raises(StackError, match="`debootstrap` is not installed"):
        docker_images.debootstrap_base(
            "base", suite="bookworm", repo="me/base", iid=tmp_path / "i", ref=tmp_path / "r", docker_env={}
        )


def test_build_says_what_it_builds_and_what_it_tagged(
    daemon: Daemon, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile, ctx = context(tmp_path)
    iid, ref = Path("i/app.iid"), Path("i/app.ref")
    target = docker_images.build(
        "app", dockerfile=dockerfile, context=ctx, args={}, repo="me/app", iid=iid, ref=ref, docker_env={}
    )
    out = capsys.readouterr().out
    assert f"[app] docker build -f {dockerfile} {ctx}" in out and f"[app] {target}" in out
    assert "--target" not in daemon.argvs()[0]


def test_a_second_build_writes_into_the_same_folder(daemon: Daemon, tmp_path: Path) -> None:
    dockerfile, ctx = context(tmp_path)
    for text in ("FROM scratch\n", "FROM scratch\nLABEL v=2\n"):
        Path(dockerfile).write_text(text)
        docker_images.build(
            "app",
            dockerfile=dockerfile,
            context=ctx,
            args={},
            repo="me/app",
            iid=Path("i/app.iid"),
            ref=Path("i/app.ref"),
            docker_env={},
        )
    assert len(daemon.builds()) == 2 and Path("i/app.ref").read_text() != ""


def test_debootstrap_says_it_takes_a_while(
    daemon: Daemon, fakes: FakeBin, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fakes.script("debootstrap", DEBOOTSTRAP)
    docker_images.debootstrap_base(
        "base", suite="trixie", repo="me/base", iid=tmp_path / "i", ref=tmp_path / "r", docker_env={}
    )
    assert "[base] debootstrap --variant=minbase trixie (about 30 s)" in capsys.readouterr().out


def test_a_debootstrap_that_fails_and_cleans_up_is_its_own_error(
    daemon: Daemon, fakes: FakeBin, tmp_path: Path
) -> None:
    fakes.script("debootstrap", 'rm -rf "$3"; echo "E: Failed getting release file" >&2; exit 1\n')
    with pytest.raises(ToolError, match="Failed getting release file"):
        docker_images.debootstrap_base(
            "base", suite="bookworm", repo="me/base", iid=tmp_path / "i", ref=tmp_path / "r", docker_env={}
        )
    assert daemon.calls() == []


BUILD_FAILS = """\
i=1; while [ $i -le 30 ]; do echo "step output $i"; i=$((i + 1)); done
echo "not ok 1 - adds two numbers"
echo "DEPRECATED: The legacy builder is deprecated and will be removed in a future release." >&2
echo "            Install the buildx component to build images with BuildKit:" >&2
echo "            https://docs.docker.com/go/buildx/" >&2
echo "The command '/bin/sh -c node --test' returned a non-zero code: 1" >&2
exit 1
"""


def test_a_failed_build_shows_its_last_lines_not_only_dockers_summary(fakes: FakeBin, tmp_path: Path) -> None:
    fakes.script("docker", BUILD_FAILS)
    dockerfile, ctx = context(tmp_path)
    iid, ref = Path(".build/local/images/app.iid"), Path(".build/local/images/app.ref")
    with pytest.raises(StackError) as info:
        docker_images.build(
            "app", dockerfile=dockerfile, context=ctx, args={}, repo="me/app", iid=iid, ref=ref, docker_env={}
        )
    lines = info.value.message.splitlines()
    assert lines[0] == (
        f"image app failed to build (exit 1) from {dockerfile}; the last 20 lines of its output "
        "(all of it in .build/logs/build-app.log):"
    )
    assert [line.strip() for line in lines[1:]] == [
        *(f"step output {i}" for i in range(13, 31)),
        "not ok 1 - adds two numbers",
        "The command '/bin/sh -c node --test' returned a non-zero code: 1",
    ]
    assert not ref.exists()
    # The whole output is in the build's own log, which no job's or push's log overwrites.
    log = Path(".build/logs/build-app.log").read_text()
    assert "step output 1\n" in log and "not ok 1 - adds two numbers" in log


def test_a_missing_dockerfile_says_to_render_before_docker_runs(daemon: Daemon) -> None:
    iid, ref = Path(".build/local/images/cache.iid"), Path(".build/local/images/cache.ref")
    with pytest.raises(StackError) as info:
        docker_images.build(
            "cache",
            dockerfile="docker/redis/Dockerfile",
            context="docker/redis",
            args={},
            repo="me/cache",
            iid=iid,
            ref=ref,
            docker_env={},
        )
    assert info.value.message == "the Dockerfile of image cache, docker/redis/Dockerfile, does not exist"
    assert info.value.fix is not None and info.value.fix.startswith("run `doit render`")
    assert daemon.calls() == []


def test_a_foreign_base_is_debootstrapped_for_its_arch_and_labelled_with_its_platform(
    daemon: Daemon, fakes: FakeBin, capsys: pytest.CaptureFixture[str]
) -> None:
    fakes.script("debootstrap", DEBOOTSTRAP)
    iid, ref = Path(".build/prod/images-arm64/base.iid"), Path(".build/prod/images-arm64/base.ref")
    target = docker_images.debootstrap_base(
        "base@arm64",
        suite="bookworm",
        repo="me/base",
        iid=iid,
        ref=ref,
        docker_env={},
        platform="linux/arm64",
    )
    assert fakes.argvs("debootstrap")[0][:2] == ["--variant=minbase", "--arch=arm64"]
    assert not [a for a in daemon.argvs() if a[:1] == ["import"]]  # an import would be labelled amd64
    assert daemon.platform(target) == "linux/arm64" and "me/base:bookworm-arm64" in daemon.refs()
    assert ref.read_text() == target + "\n" and iid.read_text().strip()[7:19] == target.rsplit(":", 1)[1]
    assert "[base@arm64] debootstrap --variant=minbase bookworm (arm64 under emulation, about 2 min)" in (
        capsys.readouterr().out
    )
