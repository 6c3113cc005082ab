"""Minimal pflag-compatible flag parser shared by the fake tools.

The fakes must reject unknown flags exactly like cobra/pflag does, so the parser is strict:
every flag has to be declared in a spec. Accepted forms mirror pflag: ``--name value``,
``--name=value``, ``-x value``, ``-xvalue``, ``-x=value`` and booleans ``--flag[=true|false]``.
"""

from __future__ import annotations

import re

# flag spelling -> (destination key, takes a value)
Spec = dict[str, tuple[str, bool]]
Opts = dict[str, list[str]]


class UsageError(Exception):
    """A cobra-level usage error (unknown flag, missing argument...)."""


def parse_flags(args: list[str], spec: Spec) -> tuple[Opts, list[str]]:
    opts: Opts = {}
    positionals: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            positionals.extend(args[i + 1 :])
            break
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            if name not in spec:
                raise UsageError(f"unknown flag: {name}")
            dest, takes_value = spec[name]
            if takes_value:
                if not eq:
                    if i + 1 >= len(args):
                        raise UsageError(f"flag needs an argument: {name}")
                    i += 1
                    value = args[i]
            else:
                if eq and value not in ("true", "false"):
                    raise UsageError(
                        f'invalid argument "{value}" for "{name}" flag: '
                        f'strconv.ParseBool: parsing "{value}": invalid syntax'
                    )
                value = value if eq else "true"
            opts.setdefault(dest, []).append(value)
        elif arg.startswith("-") and len(arg) > 1:
            name = arg[:2]
            if name not in spec:
                raise UsageError(f"unknown shorthand flag: '{arg[1]}' in {arg}")
            dest, takes_value = spec[name]
            rest = arg[2:]
            if takes_value:
                rest = rest.removeprefix("=")
                if not rest:
                    if i + 1 >= len(args):
                        raise UsageError(f"flag needs an argument: '{arg[1]}' in {arg}")
                    i += 1
                    rest = args[i]
                opts.setdefault(dest, []).append(rest)
            else:
                if rest:
                    raise UsageError(f"unknown shorthand flag: '{rest[0]}' in {arg}")
                opts.setdefault(dest, []).append("true")
        else:
            positionals.append(arg)
        i += 1
    return opts, positionals


def last(opts: Opts, key: str, default: str | None = None) -> str | None:
    values = opts.get(key)
    return values[-1] if values else default


_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")


def check_duration(flag: str, value: str) -> None:
    """Go's time.ParseDuration accepts e.g. 120s, 2m, 1h30m; bare numbers other than 0 fail."""
    if value != "0" and not _DURATION.match(value):
        raise UsageError(f'invalid argument "{value}" for "{flag}" flag: time: invalid duration "{value}"')
