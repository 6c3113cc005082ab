"""Any program's version line, asked quickly (`doit doctor`): the first line it prints, or why
there is none (not installed, a failure's last line, a timeout)."""

from __future__ import annotations

from tasks.errors import StackError
from tasks.programs import tools


def probe(program: str, *args: str, timeout: float) -> tuple[str | None, str]:
    """(first line of `program args`, "") or (None, why) when it is missing or fails."""
    if tools.which(program) is None:
        return None, "not installed"
    try:
        result = tools.run(program, *args, check=False, timeout=timeout)
    except StackError as exc:  # a timeout
        return None, exc.message
    text = (result.stdout.strip() or result.stderr.strip()).splitlines()
    if result.code != 0:
        return None, (text[-1] if text else f"exit {result.code}")
    return (text[0].strip() if text else "?"), ""
