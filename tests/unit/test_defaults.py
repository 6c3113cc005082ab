"""The default environments (tasks/defaults.py)."""

from __future__ import annotations

from tasks import defaults


def test_the_defaults_are_named_once_and_described_for_help() -> None:
    assert (defaults.LOCAL, defaults.MINIKUBE) == ("local", "minikube")
    assert defaults.describe() == "local; minikube for the Minikube family"
