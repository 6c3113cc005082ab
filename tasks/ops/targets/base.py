"""The deploy-target protocol: what every target (Compose, Minikube, the cloud clusters) does,
and the two values it reports (a `Failure` of a workload, a status `Row`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)  # gremlin: pardon[equivalent] nothing assigns to a Failure or hashes one
class Failure:
    workload: str  # e.g. deployment/engine
    reason: str  # e.g. CrashLoopBackOff
    detail: list[str]  # pod, last events, log tail (already indented)


@dataclass(frozen=True)  # gremlin: pardon[equivalent] nothing assigns to a Row or hashes one
class Row:
    """One workload in `status`."""

    workload: str
    desired: str
    ready: str
    image: str
    applied: str
    verdict: str  # ok | stale | failed
    note: str = ""


def when(at: float | str) -> str:
    """A job's last run for a status note, alike for every target: seconds since the epoch
    (Compose's own record) or an RFC 3339 time (a Kubernetes Job's status), shown in UTC."""
    if isinstance(at, str):
        try:
            seconds = datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return at
    else:
        seconds = at
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


def job_note(ok: bool, at: float | str, failure: str = "") -> str:
    """A job row's note: its last result and when it ran."""
    if ok:
        return f"succeeded at {when(at)}" if at != "" else "succeeded"
    return f"{failure or 'failed'} at {when(at)}" if at != "" else failure or "failed"


class DeployTarget(Protocol):
    @property
    def env(self) -> str: ...

    @property
    def label(self) -> str:
        """Where, for messages: "Minikube profile mktest, namespace srvthreds"."""

    def apply(self) -> None:
        """Send what changed; remember what `wait` has to see healthy."""

    def wait(self) -> list[Failure]:
        """Wait for everything the last apply left pending, under one deadline."""

    def roll_back(self, failures: list[Failure]) -> dict[str, str]:
        """Undo what has a previous revision: workload -> what happened."""

    def record(self) -> None:
        """Everything is healthy: record the apply as done."""

    def jobs(self) -> list[str]:
        """The one-off jobs this target runs after (or with) its workloads."""

    def status(self) -> list[Row]:
        """The live state of every workload against what was planned."""

    def fix(self) -> str:
        """The command to run after fixing a cause (for the summary's `Fix:`)."""
