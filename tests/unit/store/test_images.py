"""Image state files and references (tasks/store/images.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.store import images, state
from testing.configs import config, database, service


def test_image_state_files() -> None:
    assert images.state_dir("dev") == state.BUILD / "dev" / "images"
    assert images.iid_file("dev", "web") == state.BUILD / "dev" / "images" / "web.iid"
    assert images.ref_file("dev", "web", "minikube") == state.BUILD / "dev" / "minikube" / "web.ref"


def test_content_tag_is_the_short_image_id() -> None:
    assert images.content_tag(" sha256:0123456789abcdef0123\n") == "0123456789ab"
    assert len(images.content_tag("sha256:" + "f" * 64)) == images.TAG_LENGTH == 12


def test_refs_are_read_for_built_images_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    images.state_dir("dev").mkdir(parents=True)
    images.ref_file("dev", "web").write_text("acme/web:0123\n")
    assert images.refs("dev", ["web", "worker"]) == {"web": "acme/web:0123"}
    assert images.refs("dev", ["web"], "minikube") == {}


def test_pushed_images_are_services_and_cluster_databases_we_build() -> None:
    cfg = config(
        "dev",
        [service("web")],
        [database("pg", "cluster", build="docker/pg", image="acme/pg-custom"), database("cache", "cluster")],
    )
    assert images.pushed(cfg) == {"web": "acme/web", "pg": "acme/pg-custom"}


def test_image_var() -> None:
    assert images.image_var("session-agent") == "SESSION_AGENT_IMAGE"


def test_a_foreign_platforms_images_are_recorded_in_a_folder_of_their_own() -> None:
    assert images.folder("images", None) == "images"
    assert images.folder("images", "linux/arm64") == "images-arm64"
    assert images.ref_file("dev", "api", images.folder("images", "linux/arm64")).as_posix() == (
        ".build/dev/images-arm64/api.ref"
    )


def test_arch_is_the_last_part_of_a_platform() -> None:
    assert images.arch("linux/arm64") == "arm64" and images.arch("linux/amd64") == "amd64"


def test_the_hosts_platform_is_recorded_where_a_build_with_no_platform_is() -> None:
    host = "linux/amd64"
    assert images.platform_ref("dev", "api", host, host) == images.ref_file("dev", "api")
    assert (
        images.platform_ref("dev", "api", "linux/arm64", host).as_posix() == ".build/dev/images-arm64/api.ref"
    )
    # On an arm64 machine the roles swap: its own images are the plain ones.
    assert images.platform_ref("dev", "api", "linux/amd64", "linux/arm64").as_posix() == (
        ".build/dev/images-amd64/api.ref"
    )


def test_a_list_tag_follows_its_images_not_their_order() -> None:
    one = {"linux/amd64": "a/api:111111111111", "linux/arm64": "a/api:222222222222"}
    tag = images.list_tag(one)
    assert tag.startswith("list-") and len(tag) == len("list-") + images.TAG_LENGTH
    assert images.list_tag(dict(reversed(one.items()))) == tag
    assert images.list_tag({**one, "linux/arm64": "a/api:333333333333"}) != tag
    assert images.list_tag({"linux/amd64": "a/api:111111111111"}) != tag


def test_each_build_context_has_a_stamp_of_its_own() -> None:
    stamp = images.context_stamp("dev", "demo")
    assert stamp.parent == images.state_dir("dev") and stamp.name.startswith("context-")
    assert stamp.suffix == ".sha256"
    assert len({images.context_stamp("dev", f) for f in ("demo", "demo/", "app", "a/b")}) == 4
    assert images.context_stamp("dev", "demo", "minikube_images").parent == images.state_dir(
        "dev", "minikube_images"
    )


def test_a_contexts_digest_follows_each_files_path_and_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "a.py").write_text("a = 1\n")
    (tmp_path / "app" / "b.py").write_text("b = 1\n")
    first = images.context_digest("app", ["app/a.py", "app/b.py"])
    assert first == images.context_digest("app", ["app/b.py", "app/a.py"])  # listed in any order
    assert first.endswith("  app\n") and len(first.split()[0]) == 64
    assert images.context_digest("other", ["app/a.py", "app/b.py"]) != first  # names its folder
    assert images.context_digest("app", ["app/a.py"]) != first  # a file fewer
    (tmp_path / "app" / "b.py").write_text("b = 2\n")
    assert images.context_digest("app", ["app/a.py", "app/b.py"]) != first  # a file's bytes
    # Bytes moved from one file to the next are another context: each file's length is hashed.
    (tmp_path / "app" / "a.py").write_text("a = 1\nb")
    (tmp_path / "app" / "b.py").write_text(" = 1\n")
    assert images.context_digest("app", ["app/a.py", "app/b.py"]) != first


def test_the_digest_as_it_is_is_read_once_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "a.py").write_text("a = 1\n")
    images.forget_digests()
    first = images.current_digest("app", ["app/a.py"])
    assert first == images.context_digest("app", ["app/a.py"])
    (tmp_path / "app" / "a.py").write_text("a = 2\n")
    assert images.current_digest("app", ["app/a.py"]) == first  # the same run
    images.forget_digests()
    assert images.current_digest("app", ["app/a.py"]) != first
