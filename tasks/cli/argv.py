"""doit's command-line grammar, read from doit itself: its commands and the options of each.

doit reads `doit [command] [options] [task names] [key=value ...]`. Which words are commands,
which options take the next word as their value and which are flags, and which commands
run task actions, all come from doit's own command classes (their `cmd_options` and
`execute_tasks`, with the loader's options and any command plugin the project's
pyproject.toml or doit.cfg names), so a doit upgrade cannot leave a copy behind.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doit.cmd_base import get_loader
from doit.doit_cmd import DoitMain

from tasks.cli.exits import UsageError

RUN = "run"  # doit's command when none is named


@dataclass(frozen=True)
class Command:
    """One doit command as its command line sees it."""

    name: str
    executes: bool  # runs task actions (doit's `execute_tasks`): `run`, `strace`
    valued: frozenset[str]  # spellings of its options that take a value: `-v`, `--verbosity`
    flags: frozenset[str]  # spellings of its options that take none: `-a`, `--always-execute`


@dataclass(frozen=True)
class Grammar:
    commands: Mapping[str, Command]


@dataclass(frozen=True)
class Words:
    """A command line, split the way doit splits it."""

    command: str
    tasks: list[str]  # the task names (and targets) as typed
    vars: dict[str, str]  # key=value words


def _spellings(options: Iterable[Any]) -> tuple[set[str], set[str]]:
    """(valued, flags) of doit `CmdOption`s: a bool option is a flag, any other takes a value."""
    valued: set[str] = set()
    flags: set[str] = set()
    for opt in options:
        names = ([f"-{opt.short}"] if opt.short else []) + ([f"--{opt.long}"] if opt.long else [])
        (flags if opt.type is bool else valued).update(names)
        if opt.inverse:
            flags.add(f"--{opt.inverse}")
    return valued, flags


def grammar(root: Path) -> Grammar:
    """doit's grammar, for the project at `root` (whose config may add command plugins)."""
    main = DoitMain(config_filenames=[str(root / "pyproject.toml"), str(root / "doit.cfg")])
    classes = main.get_cmds()
    loader = get_loader(main.config, None, classes)
    commands: dict[str, Command] = {}
    for name in classes:
        cls = classes.get_plugin(name)
        # doit's own `get_options` (a command's options include its loader's), on an instance
        # made without __init__: that would scan every installed package for plugins, per command.
        command = cls.__new__(cls)
        command.loader = loader
        valued, flags = _spellings(command.get_options())
        commands[name] = Command(name, bool(cls.execute_tasks), frozenset(valued), frozenset(flags))
    return Grammar(commands)


def split(argv: list[str], known: Grammar, *, task_valued: Collection[str] = ()) -> Words:
    """The command, the task words and the key=value words, the way doit reads them.

    A command's name before any task name is the command (`doit -v 2 list` lists, as its
    user means). `task_valued`: the tasks' own options that take a value (`--keep 3`),
    whose value is no task name either."""
    command = known.commands[RUN]
    words: list[str] = []
    given: dict[str, str] = {}
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg.startswith("-"):
            name, has_value, _ = arg.partition("=")
            skip = not has_value and (name in command.valued or name in task_valued)
        elif "=" in arg:  # doit takes key=value words out before it looks for the command
            key, value = arg.split("=", 1)
            if key in given:  # doit would silently keep the last one
                raise UsageError(
                    f"{key}= is given twice ({key}={given[key]}, {arg})",
                    fix=f"give {key}= once",
                )
            given[key] = value
        elif not words and command.name == RUN and arg in known.commands:
            command = known.commands[arg]
        else:
            words.append(arg)
    return Words(command.name, words, given)


def check_option_order(argv: list[str], known: Grammar, *, task_flags: Collection[str] = ()) -> None:
    """doit reads its own options before the task names and a task's options after its name;
    the other way round it prints its option table. Say where the option goes instead.

    `task_flags`: the tasks' own options that take no value (`--wipe`)."""
    run = known.commands[RUN]
    after_task = False
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        name, has_value, _ = arg.partition("=")
        # (A task option before the task, `doit --wipe compose_down`, never gets here: doit
        # refuses it before it reads dodo.py.)
        if name in task_flags and has_value:
            raise UsageError(f"{arg}: {name} takes no value", fix=f"write `{name}`, or `{name[2:]}=1`")
        if after_task and (name in run.valued or name in run.flags):
            raise UsageError(
                f"{name} is an option of doit, so it goes before the task names",
                fix=f"put it first: `doit {name}{' <value>' if name in run.valued else ''} <tasks>`"
                " (e.g. `doit -v 2 render`)",
            )
        if arg.startswith("-"):
            skip = not has_value and not after_task and name in run.valued
        elif "=" not in arg and not (arg == RUN and not after_task):
            after_task = True


def check_dashed_vars(argv: list[str], known: Grammar, names: Collection[str]) -> None:
    """`--env=local` (or `--env local`): a run variable written as an option, which doit would
    only refuse to parse. Say how it is written."""
    options = {s for c in known.commands.values() for s in (*c.valued, *c.flags)}
    for i, arg in enumerate(argv):
        name, has_value, value = arg.partition("=")
        key = name.lstrip("-")
        if not arg.startswith("-") or key not in names or name in options:
            continue
        rest = argv[i + 1 :]
        if not has_value:
            value, rest = (rest[0], rest[1:]) if rest and not rest[0].startswith("-") else ("<value>", rest)
        fixed = " ".join(["doit", *argv[:i], f"{key}={value}", *rest])
        raise UsageError(
            f"{arg}: {key} is not an option of doit or of a task but a run variable, written {key}=<value>",
            fix=f"write `{key}={value}` without dashes: `{fixed}`",
        )


def dashed_values(argv: list[str], valued: Collection[str]) -> dict[str, str]:
    """`--to=prod` or `--to prod`: a task's option in doit's spelling, as its `to=prod` word.

    doit gives it to the task as a param, but the command line's checks (a protected target
    needs confirm=, the creators' load-time options) read the `key=value` words: both
    spellings must say the same to them. `valued`: the task options that take a value."""
    given: dict[str, str] = {}
    for i, arg in enumerate(argv):
        name, has_value, value = arg.partition("=")
        if name not in valued:
            continue
        if not has_value:
            if i + 1 >= len(argv):
                continue  # "needs a value" is said where the values are checked
            value = argv[i + 1]
        given[name[2:]] = value
    return given
