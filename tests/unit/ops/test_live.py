"""tasks/ops/live.py: live facts answered once per question until forgotten."""

from __future__ import annotations

from tasks.ops.live import Facts


def test_facts_answer_each_question_once_until_forgotten() -> None:
    asked: list[str] = []

    def answer(value: str) -> str:
        asked.append(value)
        return value

    facts = Facts()
    assert facts.ask("a", lambda: answer("1")) == "1"
    assert facts.ask("a", lambda: answer("2")) == "1"
    assert facts.ask("b", lambda: answer("3")) == "3"
    facts.forget()
    assert facts.ask("a", lambda: answer("4")) == "4"
    assert asked == ["1", "3", "4"]
