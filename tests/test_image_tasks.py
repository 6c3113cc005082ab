"""Image task wiring that needs no daemon."""

from __future__ import annotations

from pathlib import Path

from testing.project import run_doit


def test_broken_environment_file_is_reported_not_a_missing_task(project: Path) -> None:
    env = project / "environments" / "local.yaml"
    env.write_text(env.read_text().replace("runtime: compose", "runtime: 3"))
    for argv in (("builder_image",), ("images",), ("base_image",)):
        built = run_doit(project, *argv)
        assert built.code == 78, built.out
        assert "==> File environments/local.yaml" in built.out and "Traceback" not in built.out
        assert "does not exist" not in built.out  # never "Task dependency 'images:builder' does not exist"
    # A task that does not read local.yaml still runs (doit builds every task, builder_image included).
    assert run_doit(project, "tf_fmt").code == 0
