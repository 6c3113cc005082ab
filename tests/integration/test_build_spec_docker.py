"""A build spec's target and args reach a real `docker build` (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.ops import docker_images
from tasks.programs import tools

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("docker_daemon")]

# Two stages from scratch: no base image and no network needed.
DOCKERFILE = """\
FROM scratch AS first
ARG WHICH
COPY ${WHICH}.txt /picked
FROM scratch AS second
COPY b.txt /picked
"""


def test_target_stops_at_its_stage_and_args_are_passed(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "a.txt").write_text("a\n")
    (tmp_path / "b.txt").write_text("b\n")
    built = []
    try:
        for stage, which in (("first", "a"), (None, "a"), ("first", "b")):
            ref = docker_images.build(
                "spec",
                dockerfile=str(tmp_path / "Dockerfile"),
                context=str(tmp_path),
                args={"WHICH": which},
                repo="stackbuild-test/spec",
                iid=tmp_path / "x.iid",
                ref=tmp_path / "x.ref",
                docker_env={},
                stage=stage,
            )
            built.append(ref)
        first_a, last, first_b = built
        # No target: the last stage; stage `first` with another arg: other content, other tag.
        assert len({first_a, last, first_b}) == 3
    finally:
        for ref in set(built):
            tools.run("docker", "image", "rm", ref, check=False)
