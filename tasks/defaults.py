"""The default environments, in one table: every module that needs one reads it here.

A run works on `env=<name>` when given, else on the environment its task names imply
(`doit deploy:dev`), else on its family's default. A default is a role, and each project
says which of its environments plays it (tasks/config/load.py `default_env`): LOCAL is the
stack's `default_env:`, else its first Compose environment; MINIKUBE is `minikube`, else its
first Kubernetes environment without a cloud block. The roles' names are the environments
that play them when a project has them (the demo's `local` and `minikube`).
"""

from __future__ import annotations

# The run's environment when nothing names one: a laptop's Compose stack. Being the laptop's,
# it is also the one environment where compose/*/.env.example's placeholder secrets are accepted.
LOCAL = "local"
# The Minikube family's own default: its tasks need a Kubernetes environment without `cloud:`.
MINIKUBE = "minikube"

# family -> its default role, when not LOCAL (what `doit help` and errors say).
FAMILIES = {"Minikube": MINIKUBE}


def describe() -> str:
    """The defaults, for help texts."""
    return "; ".join(
        [
            "default_env of stack.yaml, else the first Compose environment",
            *(
                f"{env} (else a local Kubernetes environment) for the {family} family"
                for family, env in FAMILIES.items()
            ),
        ]
    )
