"""doit in a process of its own on a project copy, and waiting for what it says (never for time).

A test that must act while such a process is at a given point (holding a lock, waiting for
one) waits for the line the process prints there: under load a sleep is too short or too long.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

# Generous: on a loaded machine a start-up can take many seconds; a pass never waits this long.
PATIENCE = 120.0


class Doit:
    """`python -m doit <args>` in `project`, its stdout and stderr read as they come."""

    def __init__(self, project: Path, *args: str, seed: str = "random") -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "doit", *args],
            cwd=project,
            env={**os.environ, "PYTHONHASHSEED": seed},
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._lines: list[str] = []
        self._changed = threading.Condition()
        self._done = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout as stream:
            for line in stream:
                with self._changed:
                    self._lines.append(line)
                    self._changed.notify_all()
        with self._changed:
            self._done = True
            self._changed.notify_all()

    @property
    def out(self) -> str:
        with self._changed:
            return "".join(self._lines)

    def wait_for(self, text: str, *, timeout: float = PATIENCE) -> None:
        """Return once a line containing `text` was printed; fail if the process ended first."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: self._done or any(text in line for line in self._lines), timeout
            )
            if not found or not any(text in line for line in self._lines):
                raise AssertionError(f"doit never said {text!r}; it said:\n{''.join(self._lines)}")

    def finish(self, *, timeout: float = PATIENCE) -> tuple[int, str]:
        """(exit code, everything it printed), once it ended."""
        code = self.process.wait(timeout=timeout)
        with self._changed:
            self._changed.wait_for(lambda: self._done, timeout)
        return code, self.out
