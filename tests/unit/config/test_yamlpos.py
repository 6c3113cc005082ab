"""Safe YAML with lines (tasks/config/yamlpos.py): the limits at their exact edges, and where a key is."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tasks.config import yamlpos
from tasks.errors import ConfigError


def load(tmp_path: Path, data: str | bytes, name: str = "x.yaml") -> yamlpos.Located:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return yamlpos.load_yaml(path, f"environments/{name}")


def error(tmp_path: Path, data: str | bytes) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, data)
    return info.value


def test_key_paths_are_dotted_with_list_indexes() -> None:
    assert yamlpos.dotted(("services", "api", "ports", 0, "publish")) == "services.api.ports[0].publish"
    assert yamlpos.dotted((0, "a")) == "[0].a"
    assert yamlpos.dotted(()) == ""


def test_a_missing_key_is_reported_at_its_nearest_parent(tmp_path: Path) -> None:
    got = load(tmp_path, "# head\na:\n  b:\n    - 1\n    - c: 2\n")
    assert got.data == {"a": {"b": [1, {"c": 2}]}}
    assert got.line(("a", "b", 1, "c")) == 5
    assert got.line(("a", "b", 0)) == 4
    assert got.line(("a", "nope", "deeper")) == 2
    assert got.line(("zzz",)) == 2 and got.line(()) == 2  # the document starts below the comment
    assert yamlpos.Located("f", {}).line(("a",)) is None


def test_the_size_limit_is_exact(tmp_path: Path) -> None:
    at_limit = "a: 1\n#" + "x" * (yamlpos.MAX_BYTES - 11) + "\nz: 9"  # the last byte counts
    assert len(at_limit) == yamlpos.MAX_BYTES
    assert load(tmp_path, at_limit).data == {"a": 1, "z": 9}
    over = error(tmp_path, at_limit + "\n")
    assert f"is {yamlpos.MAX_BYTES + 1} bytes; environment files are limited to {yamlpos.MAX_BYTES}" in str(
        over
    )


def test_the_alias_budget_is_exact_and_names_the_top_level_key(tmp_path: Path) -> None:
    # One visit for the top mapping, one for pad's value, one for the list, one per item.
    items = yamlpos.MAX_NODES - 3
    fits = "pad: 0\nbig: [" + ", ".join(["1"] * items) + "]\n"
    assert len(load(tmp_path, fits).data["big"]) == items
    exceeded = error(tmp_path, "pad: 0\nbig: [" + ", ".join(["1"] * (items + 1)) + "]\n")
    assert exceeded.keypath == "big" and exceeded.line == 2
    # The budget runs out on the first value of a key not yet recorded: its own line.
    last = error(tmp_path, "big: [" + ", ".join(["1"] * (items + 1)) + "]\n\nlast: 1\n")
    assert (last.keypath, last.line) == ("last", 3)
    assert f"aliases expand to more than {yamlpos.MAX_NODES} values" in exceeded.problem


def test_bad_bytes_are_reported_at_their_line(tmp_path: Path) -> None:
    latin = error(tmp_path, "a: 1\nb: caf\xe9\n".encode("latin-1"))
    assert (latin.line, latin.problem) == (2, "is not UTF-8 text (byte 0xe9)")
    control = error(tmp_path, "a: 1\n\nb: x\x7fy\n")
    assert (control.line, control.problem) == (3, "contains the control character U+007F")
    c1 = error(tmp_path, "a: \x85\n")
    assert c1.problem == "contains the control character U+0085"
    assert load(tmp_path, "\ufeffa: 1\n").data == {"a": 1}  # a byte-order mark is not content
    assert load(tmp_path, "a:\t1\r\n").data == {"a": 1}


def test_malformed_yaml_says_where(tmp_path: Path) -> None:
    bad = error(tmp_path, "a: 1\nb: [\n")
    assert (bad.problem, bad.line) == ("malformed YAML: did not find expected node content", 3)
    reader = error(tmp_path, "a: \ufffe\n")  # no mark: the reader refuses the character
    assert reader.problem.startswith("malformed YAML: unacceptable character #xfffe") and reader.line is None
    assert error(tmp_path, "a: 1\n  b: 2\n").line == 2


def test_scalars_keep_their_types_and_dates_stay_text(tmp_path: Path) -> None:
    got = load(tmp_path, "s: x\ni: 3\nf: 1.5\nb: true\nn: null\nd: 2024-01-31\n")
    assert got.data == {"s": "x", "i": 3, "f": 1.5, "b": True, "n": None, "d": "2024-01-31"}
    assert load(tmp_path, "").data == {} and load(tmp_path, "# only a comment\n").data == {}


@pytest.mark.parametrize(
    ("text", "where", "line", "problem"),
    [
        ("a: !!set {x: null}\n", "a", 1, "the YAML tag '!!set' is not allowed"),
        ("a: !!omap [x: 1]\n", "a", 1, "the YAML tag '!!omap' is not allowed"),
        ("\na: !!binary aGk=\n", "a", 2, "the YAML tag '!!binary' is not allowed"),
        ("a:\n  x: 1\n  x: 2\n", "a.x", 3, "duplicate key 'x'"),
        ("a: &n [*n]\n", "a[0]", 1, "a YAML alias refers to the node that contains it"),
        ("? {k: v}\n: 1\n", "", 1, "keys must be plain strings"),
        ("b: 1\n!Ref k: 1\n", "", 2, "keys must be plain strings"),
        ("x: &x {k: 1}\na: {<<: *x}\n", "a", 2, "YAML merge keys (<<) are not supported"),
    ],
)
def test_what_a_config_file_must_not_do(
    tmp_path: Path, text: str, where: str, line: int, problem: str
) -> None:
    got = error(tmp_path, text)
    assert (got.keypath, got.line, got.problem) == (where, line, problem)
    assert got.file == "environments/x.yaml"


def test_an_alias_may_be_used_twice(tmp_path: Path) -> None:
    assert load(tmp_path, "x: &x [1]\na: *x\nb: *x\n").data == {"x": [1], "a": [1], "b": [1]}


def test_an_edited_file_is_parsed_again(tmp_path: Path) -> None:
    assert load(tmp_path, "a: 1\n").data == {"a": 1}
    assert load(tmp_path, "a: 22\n").data == {"a": 22}  # another size: not the cached parse


def test_what_is_not_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(ConfigError, match="is a directory, not a file"):
        yamlpos.load_yaml(tmp_path / "dir.yaml", "environments/dir.yaml")
    with pytest.raises(ConfigError, match="file not found") as missing:
        yamlpos.load_yaml(tmp_path / "none.yaml", "environments/none.yaml")
    assert missing.value.fix == "create environments/none.yaml"
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="cannot be read"):
        yamlpos.load_yaml(tmp_path / "file" / "below.yaml", "environments/below.yaml")


def _stat_says(monkeypatch: pytest.MonkeyPatch, path: Path, size: int) -> None:
    """The path's stat reports a small regular file: what it was a moment before it changed."""
    real = os.stat

    def stale(target: object, *args: object, **kw: object) -> os.stat_result:
        st = real(target, *args, **kw)  # type: ignore[arg-type]
        if str(target) != str(path):
            return st
        # A unique mtime: never the cached parse of an earlier call.
        return os.stat_result((stat.S_IFREG | 0o644, *st[1:6], size, st[7], id(target), st[9]))

    monkeypatch.setattr(os, "stat", stale)


def test_a_fifo_is_refused_without_hanging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "x.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="is not a regular file"):
        yamlpos.load_yaml(fifo, "environments/x.yaml")
    # Swapped for a FIFO after the stat: the open does not block and the check is made again.
    _stat_says(monkeypatch, fifo, 10)
    with pytest.raises(ConfigError, match="is not a regular file"):
        yamlpos.load_yaml(fifo, "environments/x.yaml")


def test_a_file_that_grew_after_its_stat_is_still_limited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("#" * (yamlpos.MAX_BYTES + 10))
    _stat_says(monkeypatch, path, 10)
    real = os.fstat

    def stale(fd: int) -> os.stat_result:
        st = real(fd)
        return os.stat_result((st.st_mode, *st[1:6], 10, *st[7:]))  # the size it had a moment ago

    monkeypatch.setattr(os, "fstat", stale)
    with pytest.raises(ConfigError, match=f"is {yamlpos.MAX_BYTES + 1} bytes"):
        yamlpos.load_yaml(path, "environments/x.yaml")
