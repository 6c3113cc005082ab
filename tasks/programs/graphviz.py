"""Graphviz's `dot` (Debian's `graphviz` package): a graph in the DOT language in, SVG out."""

from __future__ import annotations

from tasks.errors import StackError
from tasks.programs import tools

PROGRAM = "dot"
INSTALL = "sudo apt-get install graphviz"
MISSING = f"Graphviz is not installed here (no `dot` on PATH): install it with `{INSTALL}` and run again."
# A layout of a few thousand nodes takes seconds; minutes means something is wrong.
TIMEOUT = 300.0


def require() -> None:
    """Raise the one sentence that names the install command when `dot` is missing."""
    if tools.which(PROGRAM) is None:
        raise StackError(MISSING)


def svg(source: str) -> str:
    """`dot -Tsvg` of `source` (DOT text): the SVG document as text; a `dot` that exits 0 and
    prints nothing (a broken install, a wrapper) is one sentence, never an empty picture."""
    require()
    text = tools.run(PROGRAM, "-Tsvg", input=source, timeout=TIMEOUT).stdout
    if not text.strip():
        found = tools.which(PROGRAM)
        raise StackError(
            f"Graphviz's `dot` ({found}) printed no SVG, so there is no picture to write: "
            f"check that `dot -Tsvg` works there (reinstall it with `{INSTALL}`) and run again."
        )
    return text
