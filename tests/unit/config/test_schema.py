"""The declarative schema (tasks/config/schema.py): each check at its edges, and `validate`
on a real YAML file, so both the verdict and the error's file, key path and line are pinned.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tasks.config import schema
from tasks.config.yamlpos import load_yaml
from tasks.errors import ConfigError


def test_dns_label_length_and_shape() -> None:
    assert schema.dns_label("a" * 63) is None
    assert schema.dns_label("a" * 64) is not None
    assert schema.dns_label("web-1") is None
    for bad in ("-web", "web-", "Web", "", 5):
        assert schema.dns_label(bad) is not None, bad


def test_port_range_ends_are_included() -> None:
    assert [schema.port(p) is None for p in (0, 1, 65535, 65536)] == [False, True, True, False]


def test_safe_text_limits() -> None:
    assert schema.safe_text("x" * schema.MAX_TEXT) is None
    too_long = schema.safe_text("x" * (schema.MAX_TEXT + 1))
    assert too_long == (
        f"the text is {schema.MAX_TEXT + 1} characters long",
        f"keep it under {schema.MAX_TEXT}",
    )
    assert schema.safe_text("a\nb") is not None and schema.safe_text("a\tb") is not None


def test_at_least_and_between_include_their_bounds() -> None:
    assert schema.at_least(3)(3) is None and schema.at_least(3)(2) == ("2 is less than 3", "use 3 or more")
    check = schema.between(2, 5)
    assert [check(v) is None for v in (1, 2, 5, 6)] == [False, True, True, False]


def test_env_var_is_a_shell_variable_name() -> None:
    assert schema.env_var("_A1") is None and schema.env_var("LOG_LEVEL") is None
    assert schema.env_var("bad-name") == (
        "'bad-name' is not a valid environment variable name",
        "use letters, digits and '_'",
    )
    assert schema.env_var("1A") is not None and schema.env_var(5) is not None


def test_did_you_mean_names_the_closest_and_all_choices() -> None:
    assert schema.did_you_mean("replcas", ["replicas", "ports"]) == (
        "did you mean 'replicas'? (allowed: ports, replicas)"
    )
    assert schema.did_you_mean("zzz", ["b", "a"]) == "allowed: a, b"


def test_cidr_must_be_an_ipv4_network() -> None:
    assert schema.cidr("10.20.0.0/16") is None
    assert schema.cidr("10.20.0.1/16") is not None  # host bits set
    v6 = schema.cidr("fd00::/64")
    assert v6 is not None and "is not an IPv4 CIDR block" in v6[0]


def test_pattern_must_match_the_whole_value() -> None:
    check = schema.pattern(r"[a-z]+", "word", "'abc'")
    assert check("abc") is None
    assert check("abc1") == ("'abc1' is not a valid word", "write it like 'abc'")


def test_quantity_and_one_of() -> None:
    cpu = schema.quantity(schema.CPU, "'500m'")
    assert cpu("500m") is None and cpu("0.5") is None and cpu("0.0001") is not None
    pick = schema.one_of("compose", "kubernetes")
    assert pick("compose") is None
    assert pick("compoze") == (
        "'compoze' is not one of compose, kubernetes",
        "did you mean 'compose'? (allowed: compose, kubernetes)",
    )
    assert pick("zzz") == ("'zzz' is not one of compose, kubernetes", "allowed: compose, kubernetes")


def test_scalar_names_its_types() -> None:
    assert schema.Scalar((int, float)).name() == "int or number"


SPEC = schema.Fields(
    {
        "name": schema.NAME,
        "replicas": schema.Scalar((int,), schema.between(0, 10)),
        "debug": schema.BOOL,
        "tags": schema.STRS,
        "env": schema.MapOf(schema.STR, key_check=schema.pattern(r"[A-Z_]+", "variable name", "'LOG_LEVEL'")),
        "nested": schema.Fields({"port": schema.PORT, "path": schema.STR}, required=frozenset({"port"})),
        "size": schema.typed(r"[0-9]+g", "disk size", "'20g'"),
    },
    required=frozenset({"name"}),
    moved={"old_name": "nested.path"},
)


def _check(tmp_path: Path, text: str, *, enforce_required: bool = True) -> ConfigError | None:
    path = tmp_path / "env.yaml"
    path.write_text(text)
    try:
        schema.validate(load_yaml(path, "environments/env.yaml"), SPEC, enforce_required=enforce_required)
    except ConfigError as exc:
        return exc
    return None


def test_a_valid_document_passes(tmp_path: Path) -> None:
    assert (
        _check(
            tmp_path,
            "name: web\nreplicas: 0\ndebug: true\ntags: [a]\nenv: {LOG: x}\nnested: {port: 80}\nsize: 20g\n",
        )
        is None
    )


@pytest.mark.parametrize(
    "text, keypath, line, problem",
    [
        ("name: web\nreplicas: yes\n", "replicas", 2, "expected int, got bool (True)"),
        ("name: web\nreplicas: 11\n", "replicas", 2, "11 is not between 0 and 10"),
        ("name: web\ndebug: 1\n", "debug", 2, "expected bool, got int (1)"),
        ("name: web\ntags: a\n", "tags", 2, "expected a list, got str"),
        ("name: web\ntags: [a, 3]\n", "tags[1]", 2, "expected str, got int (3)"),
        ("name: web\nenv: [x]\n", "env", 2, "expected a mapping, got list (['x'])"),
        ("name: web\nenv:\n  bad-name: x\n", "env.bad-name", 3, "'bad-name' is not a valid variable name"),
        ("name: web\nenv:\n  OK: 3\n", "env.OK", 3, "expected str, got int (3)"),
        ("name: web\nnamee: x\n", "namee", 2, "unknown key 'namee'"),
        ("name: web\nnested: {path: /x}\n", "nested", 2, "missing required key 'port'"),
        ("replicas: 1\n", "", None, "missing required key 'name'"),
        ('name: "a\\tb"\n', "name", 1, "contains a line break or control character"),
        ("name: web\nsize: 20\n", "size", 2, "expected str, got int (20)"),
        ("name: web\nsize: 20G\n", "size", 2, "'20G' is not a valid disk size"),
        ("name: web\nold_name: x\n", "old_name", 2, "'old_name' is no longer a key here"),
    ],
)
def test_each_problem_is_located(
    tmp_path: Path, text: str, keypath: str, line: int | None, problem: str
) -> None:
    err = _check(tmp_path, text)
    assert err is not None
    assert err.keypath == keypath and problem in err.problem, (err.keypath, err.problem)
    if line is not None:
        assert err.line == line


def test_a_moved_key_says_where_it_lives_now(tmp_path: Path) -> None:
    err = _check(tmp_path, "name: web\nold_name: x\n")
    assert err is not None and (err.keypath, err.fix) == ("old_name", "it moved: write nested.path")


def test_the_declared_schema_cannot_be_changed_by_a_caller() -> None:
    for spec in (schema.STR, schema.STRS, SPEC.fields["env"], SPEC):
        with pytest.raises(dataclasses.FrozenInstanceError):
            spec.check = None  # type: ignore[misc, union-attr]


def test_required_keys_are_only_enforced_when_asked(tmp_path: Path) -> None:
    assert _check(tmp_path, "replicas: 1\nnested: {path: /x}\n", enforce_required=False) is None


def test_every_missing_key_of_a_mapping_is_named_at_once() -> None:
    two = schema.Fields({"a": schema.STR, "b": schema.STR, "c": schema.STR}, frozenset({"a", "b", "c"}))
    spec = schema.Fields({"block": two})
    assert schema.first_missing({"block": {"b": "x"}}, spec) == (("block",), ["a", "c"])
    assert schema.missing_keys(["a", "c"], ("block",)) == (
        "missing required key 'a' (also 'c')",
        "add `a:`, `c:` under block",
    )
    assert schema.missing_keys(["a"], ()) == ("missing required key 'a'", "add `a:` under the top level")


def test_first_missing_finds_the_first_required_key_anywhere() -> None:
    spec = schema.Fields({"items": schema.ListOf(SPEC), "map": schema.MapOf(SPEC)})
    assert schema.first_missing({"items": [{"name": "a"}, {"replicas": 1}]}, spec) == (("items", 1), ["name"])
    assert schema.first_missing({"map": {"x": {"name": "a", "nested": {}}}}, spec) == (
        ("map", "x", "nested"),
        ["port"],
    )
    assert schema.first_missing({"items": [{"name": "a", "nested": {"port": 1}}]}, spec) is None
    assert schema.first_missing({"other": 1}, spec) is None


def test_a_missing_key_says_where_to_add_it(tmp_path: Path) -> None:
    top = _check(tmp_path, "replicas: 1\n")
    nested = _check(tmp_path, "name: web\nnested: {path: /x}\n")
    assert top is not None and top.fix == "add `name:` under the top level"
    assert nested is not None and nested.fix == "add `port:` under nested"


def test_first_missing_ignores_values_of_another_shape() -> None:
    assert schema.first_missing([1, 2], schema.STR) is None
    assert schema.first_missing({"port": 1}, schema.STR) is None
    assert schema.first_missing("text", schema.ListOf(SPEC)) is None
