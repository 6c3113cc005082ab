"""doit's command-line grammar (tasks/cli/argv.py), read from doit's own commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from doit.cmd_base import DodoTaskLoader
from doit.cmd_run import Run as DoitRun
from doit.cmdparse import CmdOption
from doit.doit_cmd import DoitMain

from tasks.cli import argv
from tasks.cli.exits import UsageError
from testing.project import REPO

TASK_VALUED = ("--keep", "--tail", "--service")


def split(*words: str) -> tuple[str, list[str], dict[str, str]]:
    got = argv.split(list(words), argv.grammar(REPO), task_valued=TASK_VALUED)
    return got.command, got.tasks, got.vars


# --------------------------------------------------------------------------- read from doit


def test_every_command_and_option_doit_has_is_known() -> None:
    grammar = argv.grammar(REPO)
    assert set(grammar.commands) >= {cls.get_name() for cls in DoitMain.DOIT_CMDS}
    run = grammar.commands["run"]
    for opt in (CmdOption(o) for o in (*DoitRun.cmd_options, *DodoTaskLoader.cmd_options)):
        spelled = {f"-{opt.short}"} if opt.short else set()
        spelled |= {f"--{opt.long}"} if opt.long else set()
        assert spelled <= (run.flags if opt.type is bool else run.valued), opt.name


def test_values_and_flags_are_told_apart_per_command() -> None:
    commands = argv.grammar(REPO).commands
    assert {"-v", "--verbosity", "--reporter", "-n", "-f", "--db-file"} <= commands["run"].valued
    assert {"-a", "--always-execute", "-c", "-s", "--pdb", "-k", "--no-continue"} <= commands["run"].flags
    # The same letter means other things to other commands: `doit clean -n` is a dry run.
    assert "-n" in commands["clean"].flags and "-s" in commands["tabcompletion"].valued
    assert {"--template", "--sort"} <= commands["list"].valued


def test_only_the_commands_that_run_actions_execute() -> None:
    executing = {name for name, cmd in argv.grammar(REPO).commands.items() if cmd.executes}
    assert executing == {"run", "strace"}


def test_a_command_plugin_of_the_project_is_a_command(tmp_path: Path) -> None:
    assert "info" in argv.grammar(tmp_path).commands  # doit's own
    (tmp_path / "doit.cfg").write_text("[COMMAND]\nshow = tasks.cli.info_cmd:Info\n")
    assert "show" in argv.grammar(tmp_path).commands


# --------------------------------------------------------------------------- splitting


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["-v", "2", "compose_down", "--wipe", "env=dev"], ("run", ["compose_down"], {"env": "dev"})),
        (["minikube_logs", "--tail", "10"], ("run", ["minikube_logs"], {})),
        (["help", "compose_down"], ("help", ["compose_down"], {})),
        (["--reporter", "json", "render", "validate"], ("run", ["render", "validate"], {})),
        (["--reporter=json", "render"], ("run", ["render"], {})),  # its value is in the word
        (["--tail=5", "minikube_logs"], ("run", ["minikube_logs"], {})),
        (["--keep", "3", "images_prune"], ("run", ["images_prune"], {})),  # a task option's value
        (["--wipe", "compose_down"], ("run", ["compose_down"], {})),  # a flag takes no value
        (["render", "list"], ("run", ["render", "list"], {})),  # only the first word is a command
        (["list", "info"], ("list", ["info"], {})),
        (["forget", "env=dev", "render"], ("forget", ["render"], {"env": "dev"})),
        (["env=dev", "list"], ("list", [], {"env": "dev"})),  # doit takes key=value words out first
        (["service=a=b", "port_forward"], ("run", ["port_forward"], {"service": "a=b"})),
        (["-f", "other.py", "list", "--all"], ("list", [], {})),
        (["-a", "list"], ("list", [], {})),  # a command before any task is the command
        (["run", "list"], ("list", [], {})),
        (["clean", "-n", "render"], ("clean", ["render"], {})),  # clean's -n is a flag
        (["-n", "2", "render"], ("run", ["render"], {})),  # run's takes a value
        (["auto"], ("run", ["auto"], {})),  # not a command of doit 0.37
    ],
)
def test_argv_is_split_like_doit_does(
    words: list[str], expected: tuple[str, list[str], dict[str, str]]
) -> None:
    assert split(*words) == expected


# --------------------------------------------------------------------------- option order


@pytest.mark.parametrize(
    ("words", "message", "fix"),
    [
        (["render", "-v", "2"], "-v is an option of doit, so it goes before", "`doit -v <value> <tasks>`"),
        (["render", "-a"], "-a is an option of doit", "`doit -a <tasks>`"),
        (
            ["render", "--reporter=json"],
            "--reporter is an option of doit",
            "`doit --reporter <value> <tasks>`",
        ),
        (["compose_down", "--wipe=1"], "--wipe=1: --wipe takes no value", "write `--wipe`, or `wipe=1`"),
        (["-v", "2", "render", "-a"], "-a is an option of doit", "`doit -a <tasks>`"),  # one value skipped
        (["compose_down", "--wipe", "-a"], "-a is an option of doit", "`doit -a <tasks>`"),  # a flag has none
        (["-a", "render", "-v", "2"], "-v is an option of doit", "`doit -v <value> <tasks>`"),
        (["render", "--pdb"], "--pdb is an option of doit", "put it first: `doit --pdb <tasks>`"),
    ],
)
def test_options_in_the_wrong_place_say_where_they_go(words: list[str], message: str, fix: str) -> None:
    with pytest.raises(UsageError) as info:
        argv.check_option_order(words, argv.grammar(REPO), task_flags=["--wipe", "--fix"])
    assert message in info.value.message and fix in (info.value.fix or "")
    assert (info.value.fix or "").endswith(
        "(e.g. `doit -v 2 render`)"
    ) or "takes no value" in info.value.message


@pytest.mark.parametrize(
    "words",
    [
        ["-v", "2", "render"],
        ["-v", "2", "-a", "render"],  # a doit option's value is not a task name
        ["--reporter", "json", "render"],
        ["run", "-a", "render"],  # `run` is doit's command, not a task
        ["env=dev", "-a", "render"],  # key=value words are not task names
        ["minikube_logs", "--tail", "5"],  # a task's own option after the task
        ["compose_down", "--wipe"],
        ["minikube_logs", "--tail=5"],  # only a flag refuses a value
    ],
)
def test_options_in_the_right_place_pass(words: list[str]) -> None:
    argv.check_option_order(words, argv.grammar(REPO), task_flags=["--wipe"])


# --------------------------------------------------------------------------- run variables


@pytest.mark.parametrize(
    ("words", "fix"),
    [
        (["compose_up", "--env=local"], "write `env=local` without dashes: `doit compose_up env=local`"),
        (["compose_up", "--env", "local"], "write `env=local` without dashes: `doit compose_up env=local`"),
        (["-a", "deploy:prod", "--confirm=prod"], "`doit -a deploy:prod confirm=prod`"),
        (["compose_up", "-env=test", "images"], "`doit compose_up env=test images`"),
        (["compose_up", "--env"], "write `env=<value>` without dashes"),
    ],
)
def test_a_run_variable_written_as_an_option_gets_its_spelling(words: list[str], fix: str) -> None:
    with pytest.raises(UsageError) as info:
        argv.check_dashed_vars(words, argv.grammar(REPO), ("env", "confirm"))
    assert "is not an option of doit or of a task but a run variable" in info.value.message
    assert fix in (info.value.fix or "")


def test_doits_own_options_are_not_run_variables() -> None:
    # `--reporter` is doit's; a run variable of that name would still be read as doit's option.
    argv.check_dashed_vars(["--reporter", "json", "render"], argv.grammar(REPO), ("reporter", "env"))
    argv.check_dashed_vars(["compose_up", "env=local", "--wipe"], argv.grammar(REPO), ("env", "confirm"))


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["compose_up", "env=local", "env=prod"], "env= is given twice (env=local, env=prod)"),
        (["env=dev", "deploy:dev", "env=dev"], "env= is given twice (env=dev, env=dev)"),
        (["compose_down", "wipe=1", "wipe=0"], "wipe= is given twice (wipe=1, wipe=0)"),
    ],
)
def test_a_run_variable_given_twice_is_refused(words: list[str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        split(*words)
    assert info.value.message == message and info.value.fix == f"give {message.split('=')[0]}= once"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["promote", "--from=dev", "--to=prod"], {"from": "dev", "to": "prod"}),
        (["promote", "--from", "dev", "to=prod"], {"from": "dev"}),
        (["promote", "from=dev", "--to"], {}),  # no value: said where values are checked
        (["compose_down", "--wipe"], {}),  # a flag is not a valued option
    ],
)
def test_a_dashed_task_option_reads_as_its_key_value_word(words: list[str], expected: dict[str, str]) -> None:
    assert argv.dashed_values(words, ("--from", "--to")) == expected
