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
