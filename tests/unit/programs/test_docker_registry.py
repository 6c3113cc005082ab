"""tasks/programs/docker_registry.py against a scripted `docker` first on PATH: exact command
lines, and the password on stdin only."""

from __future__ import annotations

from tasks.programs import docker_registry
from testing.dockerd import fakes
from testing.harness import FakeBin

__all__ = ["fakes"]  # the fixture


def test_login_sends_the_password_on_stdin_and_push_sends_the_reference(fakes: FakeBin) -> None:
    fakes.script("docker", 'if [ "$1" = login ]; then read -r secret; [ "$secret" = pw ] || exit 9; fi\n')
    docker_registry.login("registry.example", "me", "pw")
    docker_registry.push("r/a:1", prefix="push")
    assert fakes.argvs("docker") == [
        ["login", "--username", "me", "--password-stdin", "registry.example"],
        ["push", "r/a:1"],
    ]


def test_a_manifest_list_is_amended_and_purged_and_insecure_only_when_asked(fakes: FakeBin) -> None:
    fakes.script("docker", "exit 0\n")
    docker_registry.push_manifest_list(
        "r.example/a:list-1", ["r.example/a:1", "r.example/a:2"], insecure=False
    )
    docker_registry.push_manifest_list("127.0.0.1:5000/a:list-1", ["127.0.0.1:5000/a:1"], insecure=True)
    assert fakes.argvs("docker") == [
        ["manifest", "create", "--amend", "r.example/a:list-1", "r.example/a:1", "r.example/a:2"],
        ["manifest", "push", "--purge", "r.example/a:list-1"],
        ["manifest", "create", "--insecure", "--amend", "127.0.0.1:5000/a:list-1", "127.0.0.1:5000/a:1"],
        ["manifest", "push", "--insecure", "--purge", "127.0.0.1:5000/a:list-1"],
    ]
