"""tasks/families/shared/image_builds.py: the image-build task dicts of one environment for one daemon,
and the actions they run (against the fake docker). Every service says how its image is built, the
builder is optional, and images.uid reaches every build."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.config import load as config
from tasks.families.shared import image_builds
from tasks.model import Build, Config
from tasks.ops import docker_images
from tasks.store import images
from tasks.store.paths import files_under
from testing.dockerd import DEBOOTSTRAP
from testing.fakes import docker as fake_docker
from testing.harness import FakeBin
from testing.project import REPO, run_doit


def cfg_of(env: str) -> Config:
    return config.load(env, REPO)


def by_name(tasks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {task["name"]: task for task in tasks}


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # build contexts are relative paths; generate only reads them


def test_static_args_are_the_stacks_own_uid_and_service() -> None:
    cfg = cfg_of("local")
    build = Build("ctx", "Dockerfile", args={"DEBUG": True, "LEVEL": 3, "NAME": "x"})
    assert image_builds.static_args(cfg, None, "redis") == {}
    assert image_builds.static_args(cfg, build, None) == {
        "DEBUG": "true",
        "LEVEL": "3",
        "NAME": "x",
        "UID": str(cfg.images.uid),
    }
    assert image_builds.static_args(cfg, build, "engine")["SERVICE"] == "engine"


def test_build_args_follow_the_recorded_base_and_builder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    offline, local = cfg_of("offline"), cfg_of("local")
    image = image_builds.Image("offline", "images", "engine")
    folder = tmp_path / ".build" / "offline" / "images"
    folder.mkdir(parents=True)
    (folder / "base.ref").write_text("me/base:aaaaaaaaaaaa\n")
    (folder / "builder.ref").write_text("me/builder:bbbbbbbbbbbb\n")
    copying = Build("ctx", "Dockerfile", builder=True)
    assert image_builds.build_args(offline, image, copying, "engine")["BASE_IMAGE"] == "me/base:aaaaaaaaaaaa"
    assert (
        image_builds.build_args(offline, image, copying, "engine")["BUILDER_IMAGE"]
        == "me/builder:bbbbbbbbbbbb"
    )
    own = image_builds.build_args(local, image, Build("ctx", "Dockerfile"), "engine")
    assert own["BASE_IMAGE"] == local.images.base_image and "BUILDER_IMAGE" not in own
    assert image_builds.build_args(local, image, None, None) == {"BASE_IMAGE": local.images.base_image}


@pytest.mark.usefixtures("in_repo")
def test_a_pulled_base_has_no_base_task_and_builder_copies_list_the_builder() -> None:
    cfg = cfg_of("local")
    tasks = by_name(image_builds.generate(cfg))
    assert "base" not in tasks
    assert set(tasks) == {"builder", *cfg.services, "context:demo"}
    builder_ref = ".build/local/images/builder.ref"
    for name, svc in cfg.services.items():
        task = tasks[name]
        assert (builder_ref in task["file_dep"]) is svc.build.builder, name
        assert task["targets"] == [f".build/local/images/{name}.ref", f".build/local/images/{name}.iid"]
        assert task["clean"] is True
        assert svc.build.dockerfile in task["file_dep"]
        # In the daemon, the same arguments, and its context (one: the builder's is demo/ too).
        assert [u if isinstance(u, tuple) else "config" for u in task["uptodate"]][1] == "config"
        assert [u[0].__name__ for u in task["uptodate"] if isinstance(u, tuple)] == [
            "image_in_daemon",
            "context_current",
        ]
    assert any(cfg.services[n].build.builder for n in cfg.services)
    assert cfg.images.builder is not None
    # The context is one stamp: the context task lists its files, once for every image.
    stamp = ".build/local/images/context-" + hashlib.sha256(b"demo").hexdigest()[:12] + ".sha256"
    assert stamp in tasks["builder"]["file_dep"] and stamp in tasks["engine"]["file_dep"]
    assert tasks["context:demo"]["file_dep"] == files_under(cfg.images.builder.context)
    assert tasks["context:demo"]["targets"] == [stamp]


@pytest.mark.usefixtures("in_repo")
def test_no_builder_task_when_no_service_copies_from_it() -> None:
    cfg = cfg_of("local")
    services = {
        n: dataclasses.replace(s, build=dataclasses.replace(s.build, builder=False))
        for n, s in cfg.services.items()
    }
    tasks = by_name(image_builds.generate(dataclasses.replace(cfg, services=services)))
    assert "builder" not in tasks and set(tasks) == {*cfg.services, "context:demo"}


@pytest.mark.usefixtures("in_repo")
def test_an_offline_base_comes_first_and_every_build_depends_on_it() -> None:
    cfg = cfg_of("offline")
    tasks = image_builds.generate(cfg, basename="minikube_images", task_dep=["x"])
    assert tasks[0]["name"] == "base"
    assert tasks[0]["targets"] == [".build/offline/minikube_images/base.ref"]
    names = [t["name"] for t in tasks]
    assert "redis" in names and "rabbitmq" in names and "mongodb" not in names  # disabled there
    for task in tasks[1:]:
        if not task["name"].startswith("context:"):  # a context's digest needs no base
            assert ".build/offline/minikube_images/base.ref" in task["file_dep"], task["name"]
    db = by_name(tasks)["redis"]
    assert "docker/redis/Dockerfile" in db["file_dep"]
    assert [u[0].__name__ for u in db["uptodate"]] == ["image_in_daemon", "context_current"]
    builds = [t for t in tasks if not t["name"].startswith("context:")]
    assert all(t["task_dep"] == ["x"] for t in tasks)  # a digest too: a daemon down is said first
    contexts = [t["name"] for t in tasks if t not in builds]
    assert contexts == sorted(contexts) and {"context:demo", "context:docker/redis"} <= set(contexts)
    assert not any("mongodb" in name for name in contexts)  # a disabled database builds nothing


def test_changed_arguments_change_the_up_to_date_value(in_repo: None) -> None:
    cfg = cfg_of("local")
    other = dataclasses.replace(cfg, images=dataclasses.replace(cfg.images, uid=cfg.images.uid + 1))

    def checked(c: Config) -> Any:
        return by_name(image_builds.generate(c))["engine"]["uptodate"][1].config

    assert checked(cfg) != checked(other)
    assert checked(cfg)["args"]["SERVICE"] == "engine"


@pytest.fixture
def daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[FakeBin, fake_docker.FakeDocker]:
    fakes = FakeBin(tmp_path / "fakes")
    daemon = fake_docker.install(fakes.bin_dir, tmp_path / "docker-state", log=fakes.log)
    fakes.script("debootstrap", DEBOOTSTRAP)
    fakes.activate(monkeypatch)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.chdir(tmp_path)
    docker_images.LISTINGS.forget()
    return fakes, daemon


@pytest.mark.parametrize("platform", [None, "linux/arm64"])
def test_make_base_keeps_a_base_the_daemon_has_and_makes_a_missing_one(
    daemon: tuple[FakeBin, fake_docker.FakeDocker], capsys: pytest.CaptureFixture[str], platform: str | None
) -> None:
    fakes, store = daemon
    cfg = cfg_of("offline")
    base = image_builds.Image("offline", "images", "base", platform)
    assert image_builds.make_base(cfg, base, dict) is None
    assert len(fakes.argvs("debootstrap")) == 1
    made = base.recorded()
    assert made in store.refs() and made.startswith(f"{cfg.images.prefix}/base:")
    docker_images.LISTINGS.forget()
    image_builds.make_base(cfg, base, dict)
    assert len(fakes.argvs("debootstrap")) == 1  # kept
    assert f"[{base.task}] keeping {made}" in capsys.readouterr().out  # base, or base@arm64


def test_build_image_builds_with_the_run_time_arguments(
    daemon: tuple[FakeBin, fake_docker.FakeDocker],
) -> None:
    fakes, store = daemon
    Path("ctx").mkdir()
    Path("ctx/Dockerfile").write_text("FROM x\n")
    cfg = cfg_of("local")
    image = image_builds.Image("local", "images", "engine")
    build = Build("ctx", "ctx/Dockerfile", target="runtime")
    image_builds.build_image(cfg, image, "ctx/Dockerfile", "ctx", "me/engine", build, "engine", dict)
    argv = store.argvs()[0]
    assert argv[:6] == [
        "build",
        "--force-rm",
        "-f",
        "ctx/Dockerfile",
        "--target",
        "runtime",
    ]  # no container left by a failed step
    assert f"BASE_IMAGE={cfg.images.base_image}" in argv and "SERVICE=engine" in argv
    assert image.recorded() in store.refs()
    assert image_builds.image_in_daemon(image, dict) is True


def _edit_stack(project: Path, change: Any) -> None:
    path = project / "environments" / "stack.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _own_dockerfiles(data: dict[str, Any]) -> None:
    """No builder, no default: each service is built from app/ like a Compose `build:`."""
    del data["images"]["builder"], data["images"]["service_build"]
    for name, svc in data["services"].items():
        svc["build"] = {"context": "app", "args": {"APP": name}}
    data["services"]["engine"]["build"] |= {"dockerfile": "app/Dockerfile", "target": "runtime"}


@pytest.fixture
def own(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (project / "app").mkdir()
    (project / "app" / "Dockerfile").write_text("FROM scratch AS runtime\n")
    (project / "app" / "server.js").write_text("// app\n")
    _edit_stack(project, _own_dockerfiles)
    # The demo's sync rules name its package, which this stack's build context (app/) does not hold.
    local = project / "environments" / "local.yaml"
    data = yaml.safe_load(local.read_text())
    data.pop("services", None)
    local.write_text(yaml.safe_dump(data))
    monkeypatch.chdir(project)
    return project


def _tasks(cfg: Config) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in image_builds.generate(cfg)}


def test_a_stack_without_builder_builds_each_image_from_its_own_context(own: Path) -> None:
    cfg = config.load("local", own)
    assert cfg.images.builder is None
    tasks = _tasks(cfg)
    assert "builder" not in tasks and set(cfg.services) <= set(tasks)
    engine = tasks["engine"]
    # Its context's stamp and its Dockerfile: nothing of the demo, no builder's .ref.
    app = str(images.context_stamp("local", "app"))
    assert engine["file_dep"] == sorted(["app/Dockerfile", app])
    assert tasks["context:app"]["file_dep"] == ["app/Dockerfile", "app/server.js"]
    build = cfg.services["engine"].build
    assert (build.context, build.dockerfile, build.target, build.builder) == (
        "app",
        "app/Dockerfile",
        "runtime",
        False,
    )
    assert image_builds.static_args(cfg, build, "engine") == {
        "APP": "engine",
        "UID": "10001",
        "SERVICE": "engine",
    }
    # `builder_image` has nothing to build, and says nothing is wrong (no KeyError).
    result = run_doit(own, "builder_image")
    assert result.code == 0 and "Traceback" not in result.out, result.out


def test_the_demo_service_images_copy_from_the_builder(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    tasks = _tasks(config.load("local", project))
    engine = tasks["engine"]["file_dep"]
    assert "demo/docker/Dockerfile.service" in engine and ".build/local/images/builder.ref" in engine
    assert str(images.context_stamp("local", "demo")) in engine
    assert "demo/srvthreds_demo/engine.py" in tasks["context:demo"]["file_dep"]
    assert (
        tasks["builder"]["file_dep"][0:1] and "demo/docker/Dockerfile.builder" in tasks["builder"]["file_dep"]
    )


def test_build_args_and_target_are_part_of_up_to_date(own: Path) -> None:
    before = _tasks(config.load("local", own))["engine"]["uptodate"][1].config
    _edit_stack(own, lambda d: d["images"].__setitem__("uid", 4242))
    after = _tasks(config.load("local", own))["engine"]["uptodate"][1].config
    assert before["args"]["UID"] == "10001" and after["args"]["UID"] == "4242"
    assert after["target"] == "runtime"


@pytest.mark.usefixtures("in_repo")
def test_a_foreign_platform_gets_the_same_images_recorded_apart_each_on_its_own_base() -> None:
    cfg = cfg_of("offline")
    host = by_name(image_builds.generate(cfg))
    both = by_name(image_builds.generate(cfg, task_dep=["x"], foreign=("linux/arm64",)))
    # One context task for both platforms: a context's files are the same for either.
    assert set(both) == set(host) | {f"{name}@arm64" for name in host if not name.startswith("context:")}
    base, engine = both["base@arm64"], both["engine@arm64"]
    assert base["targets"] == [".build/offline/images-arm64/base.ref"]
    assert base["doc"].endswith("For linux/arm64.") and engine["doc"].endswith("For linux/arm64.")
    assert engine["targets"] == [
        ".build/offline/images-arm64/engine.ref",
        ".build/offline/images-arm64/engine.iid",
    ]
    assert ".build/offline/images-arm64/base.ref" in engine["file_dep"]
    assert ".build/offline/images-arm64/builder.ref" in engine["file_dep"]
    assert ".build/offline/images/base.ref" not in engine["file_dep"]  # never the host's base
    # The host's images are unchanged (config_changed objects compare by identity: their values).
    same = {k: v for k, v in both["engine"].items() if k != "uptodate"}
    assert same == {k: v for k, v in host["engine"].items() if k != "uptodate"} | {"task_dep": ["x"]}
    assert both["engine"]["uptodate"][1].config == host["engine"]["uptodate"][1].config
    image = engine["actions"][0][1][1]
    assert image.platform == "linux/arm64" and image.sibling("base").ref.as_posix().endswith(
        "images-arm64/base.ref"
    )


def test_a_foreign_platforms_base_and_images_are_made_for_it(
    daemon: tuple[FakeBin, fake_docker.FakeDocker], capsys: pytest.CaptureFixture[str]
) -> None:
    fakes, store = daemon
    cfg = cfg_of("offline")
    base = image_builds.Image("offline", "images", "base", "linux/arm64")
    image_builds.make_base(cfg, base, dict)
    assert fakes.argvs("debootstrap")[0][:2] == ["--variant=minbase", "--arch=arm64"]
    assert store.platform(base.recorded()) == "linux/arm64"
    assert (
        "[base@arm64] debootstrap --variant=minbase bookworm (arm64 under emulation"
        in capsys.readouterr().out
    )
    Path("ctx").mkdir()
    Path("ctx/Dockerfile").write_text("FROM x\n")
    engine = base.sibling("engine")
    image_builds.build_image(cfg, engine, "ctx/Dockerfile", "ctx", "me/engine", None, "engine", dict)
    (build,) = [a for a in store.argvs() if a[:1] == ["build"] and "--iidfile" in a]
    assert build[build.index("--platform") + 1] == "linux/arm64"
    assert f"BASE_IMAGE={base.recorded()}" in build
    assert store.platform(engine.recorded()) == "linux/arm64"
    assert engine.ref.as_posix().endswith(".build/offline/images-arm64/engine.ref")


def test_a_foreign_image_is_labelled_by_its_subtask_so_info_tells_it_from_the_hosts() -> None:
    assert image_builds.Image("dev", "images", "engine").label == "engine"
    assert image_builds.Image("dev", "images", "engine", "linux/arm64").label == "engine@arm64"


def stamped_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with one build context, app/ (app/lib/a.py), stamped once; its stamp."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app" / "lib").mkdir(parents=True)
    (tmp_path / "app" / "lib" / "a.py").write_text("a = 1\n")
    stamp = images.context_stamp("dev", "app")
    image_builds.stamp_context("app", stamp)
    return stamp


def test_a_contexts_stamp_changes_when_a_file_of_it_does_and_only_then(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stamp = stamped_app(tmp_path, monkeypatch)
    first, written = stamp.read_text(), stamp.stat().st_mtime_ns
    image_builds.stamp_context("app", stamp)
    assert stamp.read_text() == first and stamp.stat().st_mtime_ns == written  # unchanged: not rewritten
    (tmp_path / "app" / "lib" / "a.py").write_text("a = 2\n")
    image_builds.stamp_context("app", stamp)
    second = stamp.read_text()
    assert second != first and second.endswith("  app\n")
    (tmp_path / "app" / "lib" / "a.py").rename(tmp_path / "app" / "b.py")  # same bytes, moved
    image_builds.stamp_context("app", stamp)
    assert stamp.read_text() not in (first, second)
    assert images.context_stamp("dev", "app") != images.context_stamp("dev", "app2")


@pytest.mark.xfail(
    strict=True,
    reason="a context is its regular files: a symlink to a folder (or a dangling one), which"
    " docker sends and COPY copies, is not in the digest, nor is a symlink's target path",
)
def test_a_symlink_added_to_a_context_changes_its_stamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stamp = stamped_app(tmp_path, monkeypatch)
    first = stamp.read_text()
    (tmp_path / "app" / "current").symlink_to("lib")
    image_builds.stamp_context("app", stamp)
    assert stamp.read_text() != first


def test_an_image_is_stale_while_its_context_differs_from_the_stamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `doit info` before a run: the context task has not stamped the edit yet, and the image
    # must not be called up to date.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("v = 1\n")
    stamp = images.context_stamp("dev", "app")
    assert image_builds.context_current("app", stamp) is False  # never stamped
    image_builds.stamp_context("app", stamp)
    images.forget_digests()
    assert image_builds.context_current("app", stamp) is True
    (tmp_path / "app" / "main.py").write_text("v = 2\n")
    images.forget_digests()  # a new run reads the context again
    assert image_builds.context_current("app", stamp) is False
    image_builds.stamp_context("app", stamp)  # the context task, later in the same run
    assert image_builds.context_current("app", stamp) is True
    (tmp_path / "app" / "main.py").write_text("v = 3\n")
    assert image_builds.context_current("app", stamp) is True  # within a run, read once
    images.forget_digests()
    assert image_builds.context_current("app", stamp) is False


def test_the_build_state_is_no_file_of_a_context() -> None:
    files = [".build/local/images/context-0.sha256", ".buildrc", "app/.build/x", "app/main.py"]
    assert image_builds.context_files(".", files) == [".buildrc", "app/.build/x", "app/main.py"]
    generated = [".build/context/Dockerfile", ".build/context/app.py"]
    assert image_builds.context_files(".build/context", generated) == generated


@pytest.mark.usefixtures("in_repo")
def test_a_service_that_copies_from_the_builder_checks_both_contexts() -> None:
    cfg = cfg_of("local")
    services = {
        n: dataclasses.replace(s, build=dataclasses.replace(s.build, context="app"))
        for n, s in cfg.services.items()
    }
    assert cfg.images.builder is not None and cfg.images.builder.context == "demo"
    tasks = by_name(image_builds.generate(dataclasses.replace(cfg, services=services)))
    assert {"context:app", "context:demo"} <= set(tasks)  # the builder's, though no service builds from demo/
    engine = tasks["engine"]
    assert {str(images.context_stamp("local", f)) for f in ("app", "demo")} <= set(engine["file_dep"])
    checked = [
        u[1][0] for u in engine["uptodate"] if isinstance(u, tuple) and u[0].__name__ == "context_current"
    ]
    assert checked == ["app", "demo"]
