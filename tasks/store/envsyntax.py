"""Docker Compose's grammar of `.env` files: what `docker compose --env-file` reads from one.

Written from Compose's own rules (compose-go's `dotenv` parser and `template` interpolation, the
ones the pinned docker-compose wheel embeds), because no maintained Python parser reads the same
values (docs/decisions.md, "One .env reader: Compose's grammar"). tests/unit/store/test_envsyntax.py
feeds every form below to the real `docker-compose config` and to `parse`, and they must agree.

- A statement is `NAME=value` or `NAME: value`, optionally after `export `; blank lines and
  lines starting with `#` are skipped. A name is letters, digits, `_ . - [ ]`; a space inside
  it is an error. `NAME` alone takes its value from the environment, if set there.
- Unquoted: the rest of the line, cut at ` #` (a space, then `#`), trailing spaces removed,
  then interpolated.
- Single quotes: literal; `\\'` is a quote. Double quotes: may span lines; `\\n \\r \\t \\" \\\\ \\$`
  and octal `\\0NNN` escapes, then interpolated. What follows the closing quote on the same line
  is read as the next statement (Compose does).
- Interpolation: `$NAME`, `${NAME}`, `${NAME:-default}` and `-`, `${NAME:?error}` and `?`,
  `${NAME:+alternative}` and `+`; `$$` is a `$`. Names are looked up in the environment first,
  then in the lines above.

Errors carry the line and never the value: it may be a secret.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# Go's unicode.IsSpace, and compose-go's isSpace (the same without line breaks).
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
GO_SPACE += "\u2028\u2029\u202f\u205f\u3000"
INLINE_SPACE = "\t\v\f\r \x85\xa0"
EXPORT = re.compile(r"export[\t\n\f\r ]+")
ESCAPE = re.compile(r'\\(?:[abcfnrtv$"\\]|0\d{0,3})')
SIMPLE_ESCAPES = dict(zip('abfnrtv"\\', '\a\b\f\n\r\t\v"\\', strict=True))
TEMPLATE = re.compile(
    r"\$(?i:(?P<escaped>\$)|(?P<named>[_a-z][_a-z0-9]*)"
    r"|\{(?:(?P<braced>[_a-z][_a-z0-9]*(?::?[-+?](.*))?)\}|(?P<invalid>)))"
)
OPERATORS = (":?", "?", ":-", "-", ":+", "+")
NAME_CHARS = "_.-[]"

Lookup = Callable[[str], "str | None"]


class EnvSyntaxError(ValueError):
    """A statement Compose refuses; `line` is where it starts (the problem never quotes a value)."""

    def __init__(self, line: int, problem: str) -> None:
        self.line = line
        self.problem = problem
        super().__init__(f"line {line}: {problem}")


@dataclass(frozen=True)
class Entry:
    key: str
    value: str
    line: int


def parse(text: str, environ: Mapping[str, str]) -> list[Entry]:
    """Every statement of an .env file, in order (a later one of the same key wins, as in Compose).

    `environ` is the environment Compose runs in: a bare `NAME` takes its value from there, and
    interpolation looks names up there before the lines above."""
    text = text.removeprefix("\ufeff")
    seen: dict[str, str] = {}
    entries: list[Entry] = []

    def lookup(name: str) -> str | None:
        return environ[name] if name in environ else seen.get(name)

    pos = _statement_start(text, 0)
    while pos >= 0:
        line = text.count("\n", 0, pos) + 1
        key, pos, inherited = _key(text, pos, line)
        if inherited:
            if key in environ:
                seen[key] = environ[key]
                entries.append(Entry(key, environ[key], line))
        else:
            value, pos = _value(text, pos, line, lookup)
            seen[key] = value
            if key:  # a last line without `=`: Compose reads it as a value of no name
                entries.append(Entry(key, value, line))
        pos = _statement_start(text, pos)
    return entries


def _statement_start(text: str, pos: int) -> int:
    """Where the next statement starts, past blank space and `#` lines; -1 at the end."""
    while True:
        while pos < len(text) and text[pos] in GO_SPACE:
            pos += 1
        if pos >= len(text):
            return -1
        if text[pos] != "#":
            return pos
        pos = text.find("\n", pos)
        if pos < 0:
            return -1


def _key(text: str, pos: int, line: int) -> tuple[str, int, bool]:
    """(name, where its value starts, whether it has none: `NAME` alone on its line)."""
    if EXPORT.match(text, pos):
        pos += len("export")
        while pos < len(text) and text[pos] in INLINE_SPACE:
            pos += 1
    start = end = pos
    key, inherited = "", False
    while end < len(text):
        char = text[end]
        if char in "=:\n":
            key, inherited = text[start:end], char == "\n"
            end += 1
            break
        if not (char in INLINE_SPACE or char in NAME_CHARS or unicodedata.category(char)[0] in "LN"):
            # Only the first word: after a space (`NAME value`) the rest of the line is a value,
            # maybe a secret.
            raise EnvSyntaxError(
                line,
                f"unexpected character {char!r} in the variable name {_first_word(text[start : end + 1])!r}",
            )
        end += 1
    else:
        end = start  # no `=`, `:` or line end: Compose reads the rest as a value of no name
    key = key.rstrip(GO_SPACE)
    if " " in key:
        # `NAME value` (a space for `=`): what follows the space is a value, never printed.
        raise EnvSyntaxError(
            line,
            f"a space follows the variable name {_first_word(key)!r}: "
            "write NAME=value, with no space in NAME",
        )
    while end < len(text) and text[end] in INLINE_SPACE:
        end += 1
    return key, end, inherited


def _first_word(name: str) -> str:
    words = name.split()
    return words[0][:40] if words else ""


def _value(text: str, pos: int, line: int, lookup: Lookup) -> tuple[str, int]:
    quote = text[pos] if pos < len(text) and text[pos] in "'\"" else ""
    if not quote:
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        raw = text[pos:end].split(" #", 1)[0].rstrip(GO_SPACE)
        return substitute(raw, lookup, line), end
    chars: list[str] = []
    escaped = False
    for i in range(pos + 1, len(text)):
        char = text[i]
        if char == quote and not escaped:
            value = "".join(chars)
            if quote == '"':
                value = substitute(expand_escapes(value), lookup, line)
            return value, i + 1
        if char == "\\" and not escaped:
            escaped = True
            continue
        if escaped and char != quote:
            chars.append("\\")
        escaped = False
        chars.append(char)
    raise EnvSyntaxError(line, f"a quoted value is not closed (the closing {quote} is missing)")


def expand_escapes(value: str) -> str:
    """The escapes of a double-quoted value (`\\$` stays an escaped `$` for interpolation)."""

    def one(match: re.Match[str]) -> str:
        text = match.group(0)
        if text == "\\$":
            return "$$"
        if text.startswith("\\0"):
            text = "\\" + text[2:]
            digits = text[1:]
            if len(digits) == 3 and all(d in "01234567" for d in digits) and int(digits, 8) < 256:
                return chr(int(digits, 8))
            return text
        return SIMPLE_ESCAPES.get(text[1:], text)

    return ESCAPE.sub(one, value)


def substitute(template: str, lookup: Lookup, line: int) -> str:
    """Compose's interpolation of one value: an unset name without a default is empty."""
    return TEMPLATE.sub(lambda m: _replace(m.group(0), lookup, line), template)


def _replace(whole: str, lookup: Lookup, line: int) -> str:
    operator = _first_operator(whole)
    close = _closing_brace(whole)
    rest = ""
    if close >= 0:
        whole, rest = whole[: close + 1], whole[close + 1 :]
    match = TEMPLATE.match(whole)
    if match is None or match.group("invalid") is not None:
        raise EnvSyntaxError(line, "`${` starts no `${NAME}` (write `$${` for a literal `${`)")
    if match.group("escaped"):
        return "$"
    name = match.group("named")
    if name:
        return lookup(name) or ""
    braced = match.group("braced")
    if operator and operator in braced:
        name, argument = braced.split(operator, 1)
        return _apply(operator, name, argument, lookup, line) + substitute(rest, lookup, line)
    return lookup(braced) or ""


def _apply(operator: str, name: str, argument: str, lookup: Lookup, line: int) -> str:
    value = lookup(name)
    empty = value is None or (operator.startswith(":") and value == "")
    if operator.endswith("?"):
        if empty:
            raise EnvSyntaxError(line, f"${{{name}{operator}...}} requires {name}, which is not set")
        return value or ""
    if operator.endswith("-"):
        return substitute(argument, lookup, line) if empty else value or ""
    return value or "" if empty else substitute(argument, lookup, line)


def _first_operator(text: str) -> str:
    """The operator Compose applies: the one that appears first (`:-` before `-` at a tie)."""
    found = [(text.find(op), i, op) for i, op in enumerate(OPERATORS) if op in text]
    return min(found)[2] if found else ""


def _closing_brace(text: str) -> int:
    """Index of the `}` that closes the first `${`, counting nested braces; -1 when none."""
    depth = 0
    i = 0
    while i < len(text):
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        if text[i] == "{":
            depth += 1
            i += 1
        i += 1
    return -1
