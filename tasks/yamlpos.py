"""YAML loading that remembers where every key came from (file and line)."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tasks.errors import ConfigError

KeyPath = tuple[str | int, ...]


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
    """Parse one file; malformed YAML and duplicate keys become ConfigErrors."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ConfigError(display, "", None, "file not found", fix=f"create {display}") from None
    # Every environment merges stack.yaml: parse each file once per edit, not per environment.
    return _parse(path, display, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _parse(path: Path, display: str, mtime_ns: int, size: int) -> Located:
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ConfigError(
            display,
            "",
            mark.line + 1 if mark else None,
            f"malformed YAML: {exc.problem}",
            fix="fix the YAML syntax at that line (indentation, a missing ':' or quote)",
        ) from None
    located = Located(display, None, {(): 1})
    located.data = {} if node is None else _build(node, (), located)
    return located


def _build(node: yaml.Node, path: KeyPath, out: Located) -> Any:
    out.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if not isinstance(key_node, yaml.ScalarNode) or not isinstance(key, str):
                raise ConfigError(out.file, dotted(path), key_node.start_mark.line + 1,
                                  "keys must be plain strings")
            if key in result:
                raise ConfigError(out.file, dotted(path + (key,)), key_node.start_mark.line + 1,
                                  f"duplicate key {key!r}", fix="remove one of the two entries")
            result[key] = _build(value_node, path + (key,), out)
            out.lines[path + (key,)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), out) for i, item in enumerate(node.value)]
    # Scalars: let PyYAML's resolver pick the type (int, bool, str, None ...).
    return _SCALARS.construct_object(node)


_SCALARS = yaml.SafeLoader("")
