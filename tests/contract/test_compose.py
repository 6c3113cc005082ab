"""The Compose workflow in a project copy, end to end through `doit`."""

from __future__ import annotations

import stat
from pathlib import Path

from testing.project import run_doit


def test_a_new_secret_is_added_to_an_existing_env_file(project: Path) -> None:
    env_file = project / "compose/local/.env"
    env_file.write_text("RABBITMQ_PASSWORD=kept-value\n")
    env_file.chmod(stat.S_IRUSR | stat.S_IWUSR)
    stack = project / "environments/stack.yaml"
    text = stack.read_text()
    assert "  - RABBITMQ_PASSWORD\n" in text
    # Declared, and given to the one service that reads it (a secret no container gets is refused).
    text = text.replace("  - RABBITMQ_PASSWORD\n", "  - RABBITMQ_PASSWORD\n  - API_SIGNING_KEY\n", 1)
    assert "    kind: deployment\n" in text
    stack.write_text(
        text.replace("    kind: deployment\n", "    kind: deployment\n    secrets: [API_SIGNING_KEY]\n", 1)
    )
    result = run_doit(project, "_compose_env", "env=local")
    assert result.code == 0, result.out
    lines = env_file.read_text().splitlines()
    assert lines[0] == "RABBITMQ_PASSWORD=kept-value"  # existing values are kept
    added = [line for line in lines if line.startswith("API_SIGNING_KEY=")]
    assert len(added) == 1 and len(added[0]) > len("API_SIGNING_KEY=") + 16
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    # Complete now: the next run leaves the file alone.
    before = env_file.read_bytes()
    again = run_doit(project, "_compose_env", "env=local")
    assert again.code == 0 and "_compose_env" not in again.executed()
    assert env_file.read_bytes() == before
