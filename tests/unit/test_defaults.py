"""The default environments (tasks/defaults.py)."""

from __future__ import annotations

from tasks import defaults


def test_the_defaults_are_named_once_and_described_for_help() -> None:
    assert (defaults.LOCAL, defaults.MINIKUBE) == ("local", "minikube")
    assert defaults.describe() == (
        "default_env of stack.yaml, else the first Compose environment; "
        "minikube (else a local Kubernetes environment) for the Minikube family"
    )
