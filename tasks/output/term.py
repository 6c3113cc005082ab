"""Colours on a terminal only, and never when NO_COLOR is set (https://no-color.org)."""

from __future__ import annotations

import os
from typing import TextIO

from tasks.output.progress import is_tty

CODES = {"green": "32", "red": "31", "yellow": "33", "dim": "2", "bold": "1"}


def use_colour(stream: TextIO) -> bool:
    return is_tty(stream) and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def painter(stream: TextIO) -> Paint:
    return Paint(use_colour(stream))


class Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, colour: str) -> str:
        if not self.enabled or colour not in CODES:
            return text
        return f"\x1b[{CODES[colour]}m{text}\x1b[0m"
