"""Build specs (issue 12): every service says how its image is built, the builder is optional,
and images.uid reaches every image, Pod and container."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.config import load as config
from tasks.families.shared import image_builds
from tasks.model import Config
from tasks.render import files as render
from testing.project import run_doit


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
    # Its context's files and its Dockerfile: nothing of the demo, no builder's .ref.
    assert engine["file_dep"] == ["app/Dockerfile", "app/server.js"]
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
    assert "demo/srvthreds_demo/engine.py" in engine
    assert (
        tasks["builder"]["file_dep"][0:1] and "demo/docker/Dockerfile.builder" in tasks["builder"]["file_dep"]
    )


def test_build_args_and_target_are_part_of_up_to_date(own: Path) -> None:
    before = _tasks(config.load("local", own))["engine"]["uptodate"][1].config
    _edit_stack(own, lambda d: d["images"].__setitem__("uid", 4242))
    after = _tasks(config.load("local", own))["engine"]["uptodate"][1].config
    assert before["args"]["UID"] == "10001" and after["args"]["UID"] == "4242"
    assert after["target"] == "runtime"


def test_images_uid_reaches_pods_and_compose(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    _edit_stack(project, lambda d: d["images"].__setitem__("uid", 4242))
    stack = config.load_stack(project)
    deployment = yaml.safe_load(render.texts(render.k8s_base(stack))["k8s/base/engine.yaml"].split("---")[0])
    pod = deployment["spec"]["template"]["spec"]["securityContext"]
    assert (pod["runAsUser"], pod["runAsGroup"], pod["fsGroup"]) == (4242, 4242, 4242)
    compose = render.texts(render.compose(config.load("local", project)))[
        "compose/local/docker-compose-services.yml"
    ]
    assert yaml.safe_load(compose)["x-hardening"]["user"] == "4242:4242"
    assert "10001" not in compose
