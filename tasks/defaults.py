"""The default environments, in one table: every module that needs one reads it here.

A run works on `env=<name>` when given, else on the environment its task names imply
(`doit deploy:dev`), else on its family's default below.
"""

from __future__ import annotations

# The run's environment when nothing names one: a laptop's Compose stack. Being the laptop's,
# it is also the one environment where compose/*/.env.example's placeholder secrets are accepted.
LOCAL = "local"
# The Minikube family's own default: its tasks need a Kubernetes environment without `cloud:`.
MINIKUBE = "minikube"

# family -> its default environment, when not LOCAL (what `doit help` and errors say).
FAMILIES = {"Minikube": MINIKUBE}


def describe() -> str:
    """`local; minikube for the Minikube family`: the defaults, for help texts."""
    return "; ".join([LOCAL, *(f"{env} for the {family} family" for family, env in FAMILIES.items())])
