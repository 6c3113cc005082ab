"""Safe YAML loading that remembers where every key came from (file and line).

Environment files are edited by hand every day, so this is the most used boundary of
the tool. Everything a file can do wrong becomes a ConfigError at its line:
not a regular file (a FIFO would hang the read), too large, not UTF-8, control
characters, malformed YAML, tags beyond YAML's core schema, merge keys, duplicate keys,
an alias that refers to itself, or aliases that expand beyond a budget ("billion laughs").
"""

from __future__ import annotations

import functools
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tasks.errors import ConfigError

KeyPath = tuple[str | int, ...]

# Environment files are a few KiB; anything this large is a mistake (a log pasted in).
MAX_BYTES = 256 * 1024
# Values one file may expand to, aliases included: the demo stack has about 400.
MAX_NODES = 20_000

_CORE = "tag:yaml.org,2002:"
# YAML 1.1's core scalars. Timestamps are kept as the text written (a date is never a setting).
_SCALAR_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]")


@dataclass
class Located:
    """Plain data from one YAML file, plus the line of every key path in it."""

    file: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, path: KeyPath) -> int | None:
        # Fall back to the nearest enclosing key: a missing key is reported at its parent.
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


def dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# libyaml's parser keeps line marks and is several times faster than the pure-Python one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path, display: str) -> Located:
    """Parse one file; every way it can be wrong becomes a ConfigError."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ConfigError(display, "", None, "file not found", fix=f"create {display}") from None
    except OSError as exc:
        raise ConfigError(
            display, "", None, f"cannot be read: {exc.strerror}", fix="check the file's permissions"
        ) from None
    _check_kind(st.st_mode, st.st_size, display)
    # Every environment merges stack.yaml: parse each file once per edit, not per environment.
    return _parse(path, display, st.st_mtime_ns, st.st_size)


def forget() -> None:
    """Parse every file again: a file rewritten in the same tick of the clock, at the same size,
    keeps its stamp (a new run starts with this, tasks/config/load.py)."""
    _parse.cache_clear()


def _check_kind(mode: int, size: int, display: str) -> None:
    if stat.S_ISDIR(mode):
        raise ConfigError(
            display,
            "",
            None,
            "is a directory, not a file",
            fix=f"remove the directory and write {display} as a YAML file",
        )
    if not stat.S_ISREG(mode):
        raise ConfigError(
            display,
            "",
            None,
            "is not a regular file (a FIFO, socket or device)",
            fix="replace it with a plain YAML file",
        )
    if size > MAX_BYTES:
        raise ConfigError(
            display,
            "",
            None,
            f"is {size} bytes; environment files are limited to {MAX_BYTES} bytes",
            fix="keep only configuration in it (is something pasted in by mistake?)",
        )


def _read(path: Path, display: str) -> str:
    # O_NONBLOCK: if the file was swapped for a FIFO after the stat, open must not hang.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        _check_kind(st.st_mode, st.st_size, display)
        data = handle.read(MAX_BYTES + 1)
    _check_kind(stat.S_IFREG, len(data), display)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            display,
            "",
            line,
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x})",
            fix="save the file as UTF-8",
        ) from None
    text = text.removeprefix("\ufeff")
    bad = _CONTROL.search(text)
    if bad:
        line = text[: bad.start()].count("\n") + 1
        raise ConfigError(
            display,
            "",
            line,
            f"contains the control character U+{ord(bad.group()):04X}",
            fix="remove it (tabs and newlines are the only control characters allowed)",
        )
    return text


@functools.lru_cache(maxsize=64)
def _parse(path: Path, display: str, mtime_ns: int, size: int) -> Located:
    text = _read(path, display)
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(
            display,
            "",
            mark.line + 1 if mark else None,
            f"malformed YAML: {exc.problem or exc.context}",
            fix="fix the YAML syntax at that line (indentation, a missing ':' or quote)",
        ) from None
    except yaml.YAMLError as exc:  # e.g. a reader error without a mark
        raise ConfigError(display, "", None, f"malformed YAML: {exc}", fix="fix the YAML syntax") from None
    located = Located(display, None, {(): 1})
    located.data = {} if node is None else _Builder(located).build(node, ())
    return located


class _Builder:
    """Turns a node graph into plain data, refusing what a config file must not do."""

    def __init__(self, out: Located) -> None:
        self.out = out
        self.count = 0
        self.active: set[int] = set()

    def fail(self, node: yaml.Node, path: KeyPath, problem: str, fix: str) -> ConfigError:
        return ConfigError(self.out.file, dotted(path), node.start_mark.line + 1, problem, fix=fix)

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        # Aliases share nodes: counting visits (not nodes) bounds what they expand to.
        self.count += 1
        if self.count > MAX_NODES:
            # The node itself may sit far away (an anchor): report the top-level key that expands.
            line = self.out.lines.get(path[:1], node.start_mark.line + 1)
            raise ConfigError(
                self.out.file,
                dotted(path[:1]),
                line,
                f"aliases expand to more than {MAX_NODES} values",
                fix="write the values out instead of nesting aliases",
            )
        if id(node) in self.active:
            raise self.fail(
                node,
                path,
                "a YAML alias refers to the node that contains it",
                "remove the self-referencing alias",
            )
        self.out.lines[path] = node.start_mark.line + 1
        self.active.add(id(node))
        try:
            return self._value(node, path)
        finally:
            self.active.discard(id(node))

    def _value(self, node: yaml.Node, path: KeyPath) -> Any:
        tag = node.tag or ""
        if isinstance(node, yaml.MappingNode):
            if tag != f"{_CORE}map":
                raise self._tag(node, path)
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            if tag != f"{_CORE}seq":
                raise self._tag(node, path)
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        if tag not in _SCALAR_TAGS:
            raise self._tag(node, path)
        if tag == f"{_CORE}timestamp":
            return node.value
        return _SCALARS.construct_object(node)

    def _tag(self, node: yaml.Node, path: KeyPath) -> ConfigError:
        shown = (node.tag or "").replace(_CORE, "!!")
        return self.fail(
            node,
            path,
            f"the YAML tag {shown!r} is not allowed",
            "remove the tag: only plain strings, numbers, booleans, lists and mappings are read",
        )

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == f"{_CORE}merge":
                raise self.fail(
                    key_node,
                    path,
                    "YAML merge keys (<<) are not supported",
                    "write the keys out (each environment file already merges over stack.yaml)",
                )
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                raise self.fail(key_node, path, "keys must be plain strings", "write the key as plain text")
            key = str(key_node.value)
            if key in result:
                raise self.fail(
                    key_node, path + (key,), f"duplicate key {key!r}", "remove one of the two entries"
                )
            result[key] = self.build(value_node, path + (key,))
            self.out.lines[path + (key,)] = key_node.start_mark.line + 1
        return result


_SCALARS = yaml.SafeLoader("")
