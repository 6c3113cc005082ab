"""A program started with its output captured whole (tools.py's quick queries).

The standard library's subprocess, not sh: sh's import (with asyncio) cost more than the
docker queries of a no-op on a loaded machine. `Captured` has the names tools.py's Ctrl-C
handling uses for sh's commands (`wait`, `is_alive`, `process.pid`, `.signal`, `.kill`), so
both kinds are stopped the same way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


class Captured:
    """One started program, in its own process group (a terminal's Ctrl-C reaches only us)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: str | Path | None,
        env: Mapping[str, str],
        data: bytes | None,
        timeout: float | None,
    ) -> None:
        self.popen = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            process_group=0,
            stdin=subprocess.DEVNULL if data is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.data, self.timeout = data, timeout
        self.process = self
        self.pid = self.popen.pid
        self.stdout = self.stderr = b""

    @property
    def code(self) -> int:
        return self.popen.returncode

    def wait(self) -> None:
        """Until it exits, reading both streams; subprocess.TimeoutExpired after `timeout`."""
        self.stdout, self.stderr = self.popen.communicate(self.data, timeout=self.timeout)

    def is_alive(self) -> bool:
        if self.popen.stdout is None or self.popen.stdout.closed:  # killed: its pipes are closed
            return self.popen.poll() is None
        try:  # reading on, so a child that writes while it stops never blocks on a full pipe
            self.stdout, self.stderr = self.popen.communicate(timeout=0.05)
        except subprocess.TimeoutExpired:
            return True
        except (OSError, ValueError, AttributeError):
            # A pipe closed under communicate (ValueError), after which subprocess's own state
            # is half set up (AttributeError on the next call): ask the process instead.
            return self.popen.poll() is None
        return False

    def signal(self, sig: int) -> None:
        self.popen.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL to its whole process group (a shell's children too), then reap it."""
        with contextlib.suppress(OSError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            if stream is not None:
                stream.close()
