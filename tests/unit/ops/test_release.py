"""tasks/ops/release.py: a release record's text (sorted, registry-prefixed images, one
trailing newline) and what reads as one."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tasks.ops import release


def test_release_text_and_parse() -> None:
    text = release.text("e", {"b": "r/b:2", "a": "r/a:1"}, "reg")
    doc = json.loads(text)
    assert doc == {
        "env": "e",
        "refs": {"a": "r/a:1", "b": "r/b:2"},
        "images": {"a": "reg/r/a:1", "b": "reg/r/b:2"},
    }
    assert list(doc["refs"]) == ["a", "b"] and text.endswith("}\n")
    assert list(doc) == ["env", "images", "refs"]  # every key sorted: the text diffs cleanly when committed
    assert release.parse(text) == release.Release({"a": "r/a:1", "b": "r/b:2"}, text)
    assert json.loads(release.text("e", {"a": "r/a:1"}, None))["images"] == {"a": "r/a:1"}


def test_what_is_not_a_release_parses_as_none() -> None:
    for text in ('{"refs": []}', "[]", "{", ""):
        assert release.parse(text) is None, text


def test_a_release_record_cannot_be_changed() -> None:
    record = release.parse(release.text("e", {"a": "r/a:1"}, None))
    assert record is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.text = "{}"  # type: ignore[misc]
