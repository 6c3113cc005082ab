"""Image task wiring that needs no daemon."""
from __future__ import annotations

from pathlib import Path

from tests.fixtures import run_doit


def test_broken_environment_file_still_lets_doit_list_and_report(project: Path) -> None:
    env = project / "environments" / "local.yaml"
    env.write_text(env.read_text().replace("runtime: compose", "runtime: 3"))
    listed = run_doit(project, command="list")
    assert listed.code == 0, listed.out
    built = run_doit(project, "builder_image")
    assert built.code != 0
    assert "==> File environments/local.yaml" in built.out and "Traceback" not in built.out
