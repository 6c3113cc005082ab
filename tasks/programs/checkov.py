"""checkov (its own virtualenv, at the end of PATH: tools.CHECKOV_INSTALL): one scan."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tasks.programs import tools

INSTALL = tools.CHECKOV_INSTALL  # checkov's own virtualenv, at the END of PATH


@dataclass(frozen=True)  # gremlin: pardon[equivalent] nothing assigns to a Scan or hashes one
class Scan:
    """One checkov run: its result (exit 1 = failed checks) and how long it took."""

    framework: str
    result: tools.Result
    seconds: float

    @property
    def passed(self) -> bool:
        return self.result.code == 0

    @property
    def summary(self) -> list[str]:
        """checkov's "Passed checks: N, Failed checks: M, ..." lines."""
        return [line.strip() for line in self.result.stdout.splitlines() if line.startswith("Passed checks")]

    @property
    def report(self) -> str:
        return self.result.stdout.strip() or self.result.stderr.strip()


def installed() -> bool:
    return tools.which("checkov") is not None


def scan(framework: str, args: list[str]) -> Scan:
    started = time.monotonic()
    result = tools.run(
        "checkov",
        *args,
        "--skip-download",
        "--quiet",
        "--compact",
        check=False,
        env={"NO_COLOR": "1", "ANSI_COLORS_DISABLED": "1"},
    )
    return Scan(framework, result, time.monotonic() - started)
