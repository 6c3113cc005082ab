"""tasks/programs/compose.py against the fake docker-compose first on PATH: a project's command
lines, `ps` as Containers (both JSON formats), the logs even of a failing call, file checks, a failed
step's reason and a refused login read from what was printed."""

from __future__ import annotations

import pytest

from tasks.errors import StackError, ToolError
from tasks.programs import compose as compose_cli
from tasks.programs.compose import Container
from testing.composebox import Box, box, tool_error

__all__ = ["box"]  # the fixture


def test_ps_reads_both_json_formats_and_nothing() -> None:
    one = Container("a", "running", "healthy", "img:1")
    row = '{"Service": "a", "State": "running", "Health": "healthy", "Image": "img:1"}'
    assert compose_cli.parse_ps(f"[{row}, {row}]\n") == [one, one]
    assert compose_cli.parse_ps(f"\n{row}\n\n{row}\n") == [one, one]
    assert compose_cli.parse_ps("  \n") == []
    assert compose_cli.parse_ps('{"Service": "b"}') == [Container("b", "", "", "")]
    assert Container("a", "running", "", "i").ready and not Container("a", "running", "starting", "i").ready


def test_ps_that_is_not_json_is_a_clear_error() -> None:
    with pytest.raises(StackError) as info:
        compose_cli.parse_ps("NAME  IMAGE\nx-redis-1  redis\n")
    assert "printed something that is not JSON: 'NAME  IMAGE'" in info.value.message


def test_project_arguments_and_the_command_lines(box: Box) -> None:
    project = compose_cli.Project("compose/x", ("compose/x/a.yml", "compose/x/b.yml"), "compose/x/.env")
    head = ["--project-directory", "compose/x", "-f", "compose/x/a.yml", "-f", "compose/x/b.yml"]
    assert project.args() == [*head, "--env-file", "compose/x/.env"]
    box.script_compose('echo "[]"\n')
    compose_cli.ps(project, "redis", env={"A": "1"})
    compose_cli.logs(project, "redis", tail=5)
    compose_cli.config(project)
    compose_cli.up(project, ["redis"], wait=7, env=None, prefix="up", timeout=60)
    compose_cli.up(project, ["web"], wait=7, env=None, prefix="up", timeout=60, stop_grace=1)
    compose_cli.run_once(project, "job", env=None, prefix="job", timeout=60)
    compose_cli.down(project, volumes=True, env=None, prefix="down")
    assert [argv[len(head) + 2 :] for argv in box.fakes.argvs("docker-compose")] == [
        ["ps", "-a", "--format", "json", "redis"],
        ["logs", "--no-color", "--tail", "5", "redis"],
        ["config"],
        ["up", "-d", "--wait", "--wait-timeout", "7", "redis"],
        ["up", "-d", "--wait", "--wait-timeout", "7", "--timeout", "1", "web"],
        ["run", "--rm", "-T", "job"],
        ["down", "--remove-orphans", "--volumes"],
    ]


def test_commands_fail_loudly_but_logs_can_be_read_from_a_failure(box: Box) -> None:
    project = box.stack.compose_project()
    box.script_compose("echo 'no such service: x' >&2; exit 1\n")
    with pytest.raises(ToolError, match="no such service"):
        compose_cli.ps(project)
    with pytest.raises(ToolError, match="no such service"):
        compose_cli.logs(project, "x")
    assert compose_cli.logs(project, "x", check=False) == "no such service: x\n"


def test_check_file_asks_compose_to_validate_one_file(box: Box) -> None:
    box.script_compose('echo "services.redis Additional property imgae is not allowed" >&2; exit 15\n')
    with pytest.raises(ToolError) as info:
        compose_cli.check_file("compose/x/docker-compose-db.yml", "compose/x/.env.example")
    assert info.value.code == 15 and "imgae" in info.value.message
    assert box.fakes.argvs("docker-compose") == [
        ["-f", "compose/x/docker-compose-db.yml", "--env-file", "compose/x/.env.example", "config", "-q"]
    ]


def test_reason_is_composes_last_word_without_progress_lines() -> None:
    progress = " Container a-redis-1  Started\n Container a-redis-1  Waiting\n"
    assert (
        compose_cli.reason(tool_error(progress + "redis is unhealthy\n" + progress)) == "redis is unhealthy"
    )
    assert compose_cli.reason(tool_error(progress)) == "Container a-redis-1  Waiting"
    assert compose_cli.reason(tool_error("", stdout="from stdout\n")) == "from stdout"
    assert compose_cli.reason(tool_error("  \n", code=7)) == "exit 7"


@pytest.mark.parametrize(
    "said",
    [
        "(403) ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN",
        'FATAL:  password authentication failed for user "app"',
        "pymongo.errors.OperationFailure: Authentication failed.",
        "ReplyError: WRONGPASS invalid username-password pair or user is disabled.",
        "amqp: login refused",
    ],
)
def test_a_refused_login_is_recognised_as_each_server_words_it(said: str) -> None:
    assert compose_cli.refused_login(f"engine-1  | starting\nengine-1  | {said}\n")


def test_other_failures_are_no_refused_login() -> None:
    for said in ("", "connection refused", "ECONNREFUSED 127.0.0.1:6379", "login ok", "authentication ok"):
        assert not compose_cli.refused_login(said), said
