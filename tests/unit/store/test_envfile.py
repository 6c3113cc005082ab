"""tasks/store/envfile.py: .env files read as Compose reads them (the grammar's own agreement test is
test_envsyntax.py); a link, a special file, a secret file others can read, an empty secret or one
still holding a placeholder outside local is refused with its fix; appending keeps every byte."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import FrameType

import pytest

from tasks.errors import StackError
from tasks.store import envfile


def test_envfile_read_handles_comments_exports_quotes_and_missing(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    assert envfile.read(path, environ={}) == {}
    path.write_text("# comment\n\nexport A = 'x=y'\nB=\"two words\"\nNOEQUALS\n  C=3  \n#D=4\n1X=no\n")
    assert envfile.read(path, environ={}) == {"A": "x=y", "B": "two words", "C": "3"}


def test_the_environment_compose_runs_in_wins_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("PASS=from-file\nURL=amqp://u:${PASS}@h\nBARE\n")
    assert envfile.read(path, environ={"PASS": "from-env", "BARE": "b"}) == {
        "PASS": "from-env",
        "URL": "amqp://u:from-env@h",
        "BARE": "b",
    }
    assert envfile.names(path) >= {"PASS", "URL"}


def test_a_line_compose_cannot_read_is_named_without_its_value(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text('A=1\nPASS="Sup3r\n')
    with pytest.raises(StackError) as info:
        envfile.read(path)
    assert info.value.message == f'{path}, line 2: a quoted value is not closed (the closing " is missing)'
    assert "Sup3r" not in info.value.render() and "env-file-syntax" in (info.value.fix or "")


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"A=caf\xe9\n")
    with pytest.raises(StackError, match="is not UTF-8 text"):
        envfile.read(path)


def test_a_symlinked_env_file_is_refused_and_the_fix_never_changes_its_target(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.env"
    outside.write_text("PASS=Sup3r\n")
    outside.chmod(0o644)
    project = tmp_path / "project"
    project.mkdir()
    link = project / ".env"
    link.symlink_to(outside)
    for call in (envfile.read, envfile.names, envfile.check_private):
        with pytest.raises(StackError) as info:
            call(link)
        assert info.value.message.startswith(f"{link} is a symbolic link (to {outside})")
    fix = info.value.fix or ""
    assert "chmod" not in fix and f"mv {link}.new {link}" in fix
    # The fix, run as written, leaves a private regular file and the target as it was.
    assert os.system(fix.split("`")[1]) == 0
    assert not link.is_symlink() and oct(link.stat().st_mode & 0o777) == "0o600"
    assert oct(outside.stat().st_mode & 0o777) == "0o644" and envfile.read(link, environ={}) == {
        "PASS": "Sup3r"
    }


def _hung(signum: int, frame: FrameType | None) -> None:
    raise TimeoutError("the reader hung")


@pytest.mark.parametrize("kind", ["fifo", "dir", "dangling link"])
def test_a_special_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    path = tmp_path / ".env"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    else:
        path.symlink_to(tmp_path / "nowhere")
    old = signal.signal(signal.SIGALRM, _hung)
    signal.alarm(5)
    try:
        with pytest.raises(
            StackError, match="symbolic link" if kind == "dangling link" else "not a regular file"
        ):
            envfile.read_secrets(path, "dev", ["A"])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_append_keeps_every_existing_byte_and_ends_an_open_last_line(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    original = b"# mine\r\nRABBITMQ_PASSWORD=keepme123"
    path.write_bytes(original)
    envfile.append(path, {"API_TOKEN": "tok", "OTHER": "o"})
    assert path.read_bytes() == original + b"\nAPI_TOKEN=tok\nOTHER=o\n"
    assert envfile.read(path, environ={}) == {
        "RABBITMQ_PASSWORD": "keepme123",
        "API_TOKEN": "tok",
        "OTHER": "o",
    }
    envfile.append(path, {"LAST": "l"})  # ends with a line break now: none added
    assert path.read_bytes().endswith(b"OTHER=o\nLAST=l\n")


def test_append_to_an_empty_file_adds_no_blank_line(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"")
    envfile.append(path, {"A": "1"})
    assert path.read_bytes() == b"A=1\n"


def test_create_is_private_from_the_first_byte_and_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "sub" / ".env"
    envfile.create(path, "# head\n", {"A": "1"})
    assert path.read_text() == "# head\nA=1\n" and oct(path.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(FileExistsError):
        envfile.create(path, "", {"A": "2"})


def test_an_empty_secret_is_refused_even_in_local(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("A=\nB=''\nC=x\n")
    path.chmod(0o600)
    with pytest.raises(StackError) as info:
        envfile.read_secrets(path, "local", ["A", "B", "C"])
    assert info.value.message == f"{path}: A, B are set but empty"
    assert envfile.read_secrets(path, "local", ["C"])["C"] == "x"


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
