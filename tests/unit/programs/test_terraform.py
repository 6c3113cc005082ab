"""tasks/programs/terraform.py: what is read from Terraform's output (its closing line)."""

from __future__ import annotations

from tasks.programs import terraform as tf_program


def test_change_counts_read_terraforms_closing_line() -> None:
    assert tf_program.change_counts(
        "x\nPlan: 3 to add, 1 to change, 2 to destroy.\n", tf_program.PLAN_LINE
    ) == (3, 1, 2)
    assert tf_program.change_counts(
        "No changes. Your infrastructure matches the configuration.\n", tf_program.PLAN_LINE
    ) == (0, 0, 0)
    assert tf_program.change_counts(
        "Apply complete! Resources: 0 added, 4 changed, 0 destroyed.\n", tf_program.APPLY_LINE
    ) == (0, 4, 0)
    assert tf_program.change_counts("something else\n", tf_program.APPLY_LINE) is None


def test_change_counts_take_the_last_closing_line_at_a_line_start() -> None:
    two = "Plan: 1 to add, 0 to change, 0 to destroy.\nPlan: 2 to add, 3 to change, 4 to destroy.\n"
    assert tf_program.change_counts(two, tf_program.PLAN_LINE) == (2, 3, 4)
    assert tf_program.change_counts("x No changes. here\n", tf_program.PLAN_LINE) is None
    assert tf_program.change_counts("x\nNo changes.\n", tf_program.APPLY_LINE) == (0, 0, 0)
