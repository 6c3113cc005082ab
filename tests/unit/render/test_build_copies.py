"""tasks/render/build_copies.py on a small made-up project: which of the tool's database build
folders a project gets copies of, their bytes and README, and a project's own folder (never
touched). The copies' modes, and what is removed when no database builds from a copy, are
tests/unit/render/test_writer.py's.

The whole `doit render` in another project is tests/contract/test_other_project.py's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.model import Config
from tasks.render import build_copies, templates
from tasks.store import paths
from testing.configs import LOCAL, load, small_project, stack


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_project(tmp_path)


def config(root: Path, build: str | None, placement: str = "compose") -> Config:
    data = stack()
    if build is not None:
        data["databases"]["pg"]["build"] = build
    off = {"disabled_services": ["web", "migrate"]} if placement == "disabled" else {}
    return load(root, data, {**LOCAL, "placement": {"pg": placement}, **off})


def test_a_database_building_from_a_tool_folder_gets_a_byte_identical_copy_and_a_readme(root: Path) -> None:
    outputs = templates.texts(build_copies.build_copies([config(root, "docker/rabbitmq")], root))
    tool = paths.TOOL / "docker" / "rabbitmq"
    assert sorted(outputs) == [
        "docker/README.md",
        "docker/rabbitmq/Dockerfile",
        "docker/rabbitmq/entrypoint.sh",
    ]
    for name in ("Dockerfile", "entrypoint.sh"):
        assert outputs[f"docker/rabbitmq/{name}"].encode() == (tool / name).read_bytes()
    readme = outputs["docker/README.md"]
    assert readme.startswith("<!-- Generated from templates/docker/README.md.j2 by `doit render`")
    assert "| `docker/rabbitmq/` | pg: test |" in readme
    assert "copy it to a folder with another name" in readme


@pytest.mark.parametrize(
    ("build", "placement"), [(None, "compose"), ("docker/pg", "compose"), ("docker/redis", "disabled")]
)
def test_no_copy_for_another_folder_or_a_disabled_database(
    root: Path, build: str | None, placement: str
) -> None:
    if build == "docker/pg":
        (root / "docker" / "pg").mkdir(parents=True)
        (root / "docker" / "pg" / "Dockerfile").write_text("FROM scratch\n")
    assert build_copies.build_copies([config(root, build, placement)], root) == {}


def test_a_projects_own_folder_of_a_tool_name_is_never_written(root: Path) -> None:
    own = root / "docker" / "redis"
    own.mkdir(parents=True)
    (own / "Dockerfile").write_text("FROM mine\n")
    assert build_copies.build_copies([config(root, "docker/redis")], root) == {}
    # Listed in our README, the same folder is a copy: it is written back to the tool's bytes.
    (root / "docker" / "README.md").write_text(
        "<!-- Generated from templates/docker/README.md.j2 by `doit render`. -->\n| `docker/redis/` | pg |\n"
    )
    assert build_copies.managed(root) == {"redis"}
    assert "docker/redis/Dockerfile" in build_copies.build_copies([config(root, "docker/redis")], root)


def test_a_readme_of_the_projects_own_is_refused_with_the_way_out(root: Path) -> None:
    (root / "docker").mkdir()
    (root / "docker" / "README.md").write_text("# our images\n")
    assert build_copies.managed(root) == set()
    with pytest.raises(StackError) as info:
        build_copies.build_copies([config(root, "docker/redis")], root)
    assert info.value.message.startswith("docker/README.md is the project's own")
    assert (
        info.value.fix == "move your docker/README.md (e.g. to docs/docker.md), then run `doit render` again"
    )
