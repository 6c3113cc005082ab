"""tasks/store/envfile.py: .env files read as Compose reads them; a secret file others can read, or one
still holding a placeholder outside local, is refused with its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.store import envfile


def test_envfile_read_handles_comments_exports_quotes_and_missing(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    assert envfile.read(path) == {}
    path.write_text("# comment\n\nexport A = 'x=y'\nB=\"two words\"\nNOEQUALS\n  C=3  \n#D=4\n")
    assert envfile.read(path) == {"A": "x=y", "B": "two words", "C": "3"}


@pytest.mark.parametrize("mode, refused", [(0o600, False), (0o400, False), (0o640, True), (0o604, True)])
def test_envfile_refuses_a_secret_file_others_can_read(tmp_path: Path, mode: int, refused: bool) -> None:
    path = tmp_path / ".env"
    path.write_text("A=1\n")
    path.chmod(mode)
    if refused:
        with pytest.raises(StackError, match=f"readable by others \\(mode {mode:o}\\)"):
            envfile.read_secrets(path, "dev", ["A"])
    else:
        assert envfile.read_secrets(path, "dev", ["A"]) == {"A": "1"}
    envfile.check_private(tmp_path / "missing")  # nothing to refuse


def test_envfile_placeholders_only_in_local(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("A=change-me\nB=ChangeMe\nC=real\n")
    path.chmod(0o600)
    assert envfile.read_secrets(path, "local", ["A", "B", "C"])["A"] == "change-me"
    with pytest.raises(StackError) as info:
        envfile.read_secrets(path, "dev", ["A", "B", "C"])
    assert str(info.value).startswith(
        f"{path}: A, B still hold the placeholder 'change-me' (environment dev)"
    )
    assert envfile.read_secrets(path, "dev", ["C"]) == {"A": "change-me", "B": "ChangeMe", "C": "real"}


def test_readable_env_is_refused_with_the_fix(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("RABBITMQ_PASSWORD=abc\n")
    env.chmod(0o644)
    with pytest.raises(StackError) as err:
        envfile.read_secrets(env, "dev", ["RABBITMQ_PASSWORD"])
    assert "readable by others (mode 644)" in err.value.message and f"chmod 600 {env}" in (
        err.value.fix or ""
    )
    env.chmod(0o600)
    assert envfile.read_secrets(env, "dev", ["RABBITMQ_PASSWORD"]) == {"RABBITMQ_PASSWORD": "abc"}


def test_placeholder_is_refused_outside_local(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("RABBITMQ_PASSWORD=change-me\n")
    env.chmod(0o600)
    assert envfile.read_secrets(env, "local", ["RABBITMQ_PASSWORD"])["RABBITMQ_PASSWORD"] == "change-me"
    with pytest.raises(StackError) as err:
        envfile.read_secrets(env, "minikube", ["RABBITMQ_PASSWORD"])
    assert "RABBITMQ_PASSWORD still hold the placeholder 'change-me'" in err.value.message
