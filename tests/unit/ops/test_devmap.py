"""tasks/ops/devmap.py: a batch of changed files maps to the services it concerns, from the
configuration alone (inputs, Dockerfiles, build contexts, the shared builder)."""

from __future__ import annotations

from tasks.model import Build, Config, Images
from tasks.ops import devmap
from testing.configs import config, service

SHARED = Build(context="app", dockerfile="app/Dockerfile", builder=True)


def stack(n: int = 3) -> Config:
    """n services built from one shared context through a builder, each with its own module."""
    services = [service(f"s{i}", build=SHARED, inputs=(f"app/s{i}.py", f"app/tests/s{i}")) for i in range(n)]
    services.append(service("own", build=Build(context="own", dockerfile="own/Dockerfile")))
    cfg = config("dev", services, [])
    builder = Build(context="app", dockerfile="app/Dockerfile.builder")
    images = Images(prefix="acme", base="pull", base_image="debian", builder=builder, suite="bookworm", uid=1)
    return Config(**{**cfg.__dict__, "images": images})


def test_a_file_of_one_service_concerns_that_service_alone() -> None:
    assert devmap.plan(stack(), ["app/s1.py"]) == devmap.Work(("s1",), False)
    assert devmap.plan(stack(), ["app/tests/s2/test_x.py"]).services == ("s2",)


def test_the_cost_of_one_change_does_not_grow_with_the_stack() -> None:
    assert devmap.plan(stack(30), ["app/s7.py"]).services == ("s7",)


def test_shared_code_concerns_every_service_of_its_context() -> None:
    work = devmap.plan(stack(), ["app/common/util.py"])
    assert work.services == ("s0", "s1", "s2") and not work.config


def test_the_builder_dockerfile_concerns_the_services_that_copy_from_it() -> None:
    assert devmap.plan(stack(), ["app/Dockerfile.builder"]).services == ("s0", "s1", "s2")


def test_a_context_of_its_own_concerns_its_service() -> None:
    assert devmap.plan(stack(), ["own/main.go"]).services == ("own",)


def test_the_configuration_concerns_everything_and_asks_for_a_render() -> None:
    work = devmap.plan(stack(), ["environments/stack.yaml", "app/s1.py"])
    assert work.config and work.services == ("s0", "s1", "s2", "own")


def test_a_file_outside_every_context_is_no_work() -> None:
    assert devmap.plan(stack(), ["docs/notes.md"]).empty
    assert not devmap.plan(stack(), ["app/s1.py"]).empty


def test_under_matches_whole_path_components() -> None:
    assert devmap.under("app/s1.py", "app") and devmap.under("app", "app/")
    assert not devmap.under("apps/x.py", "app")
    assert devmap.under("anything", ".")
