"""tasks/render/compose_text.py: a literal dollar is written `$$`, in a string and in each
string of a list (what Compose reads back is tests/unit/render/test_files.py's)."""

from __future__ import annotations

from tasks.render.compose_text import literal, literals


def test_every_dollar_is_doubled_and_nothing_else_changes() -> None:
    assert literal('redis-cli -a "$REDISCLI_AUTH" ${X} $$') == 'redis-cli -a "$$REDISCLI_AUTH" $${X} $$$$'
    assert literal("no dollars: <&'>") == "no dollars: <&'>"
    assert literals(["sh", "-c", "echo $HOME"]) == ["sh", "-c", "echo $$HOME"]
    assert literals(()) == []
