"""Long tool output, collapsed: a line counter with the last line, the full log on disk.

An image build or a debootstrap prints hundreds of lines nobody reads unless it
fails. `Collapsed` keeps every line in `.build/logs/<step>.log`; on a terminal it
redraws one status line (`[engine] 123 lines: <last line>`), elsewhere (CI logs,
pipes) it prints a plain progress line at most every PLAIN_EVERY seconds, so a
CI log still shows that something is moving. On failure the caller shows the tail
(ToolError carries it) and the log's path. STACKBUILD_VERBOSE=1 prints every line,
as before. Secret values declared with `console.hide` are masked in the log and the display.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import TextIO

from tasks.output import console
from tasks.store import state

LOGS = state.logs_dir()
PLAIN_EVERY = 10.0  # seconds between progress lines when not on a terminal
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def verbose() -> bool:
    """STACKBUILD_VERBOSE=1: show every line of every tool (doit's own -v is per task)."""
    return os.environ.get("STACKBUILD_VERBOSE", "").lower() not in ("", "0", "false", "no")


def log_path(step: str) -> Path:
    return LOGS / f"{_SAFE.sub('_', step) or 'step'}.log"


def is_tty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Collapsed:
    """A line sink for one streamed step: log file + collapsed display."""

    def __init__(self, step: str, *, stream: TextIO | None = None) -> None:
        self.step = step
        # Not tasks/output/console.py: on a terminal this display redraws one status line in place
        # (carriage return, erase-line escape, no newline), which console's whole lines cannot do;
        # and a test or caller may hand it another stream.
        self.stream = stream if stream is not None else sys.stdout
        self.path = log_path(step)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.log = self.path.open("w", encoding="utf-8")
        self.lines = 0
        self.last = ""
        self.tty = is_tty(self.stream)
        self.shown_at = time.monotonic()
        self.verbose = verbose()

    def __call__(self, line: str) -> None:
        # Masked before it is kept: the log outlives the run and is what a user pastes.
        text = console.masked(line.rstrip("\n"))
        self.log.write(text + "\n")
        self.lines += 1
        if text.strip():
            self.last = text.strip()
        if self.verbose:
            self.stream.write(f"[{self.step}] {text}\n")
        elif self.tty:
            width = shutil.get_terminal_size((100, 20)).columns - 1
            status = f"[{self.step}] {self.lines} lines: {self.last}"
            self.stream.write("\r\x1b[K" + status[:width])
        elif time.monotonic() - self.shown_at >= PLAIN_EVERY:
            self.shown_at = time.monotonic()
            self.stream.write(f"[{self.step}] {self.lines} lines so far: {self.last}\n")
        self.stream.flush()

    def close(self, *, ok: bool) -> None:
        self.log.close()
        if self.verbose:
            return
        if self.tty:
            self.stream.write("\r\x1b[K")
        verdict = "done" if ok else "FAILED"
        self.stream.write(f"[{self.step}] {verdict} ({self.lines} lines, full log: {self.path})\n")
        self.stream.flush()
