"""Entry point for doit. Logic lives in tasks/; this file only wires it up.

Run `doit list` to see every task. Every project's dodo.py is these lines
(tasks/project.py): examples/guestbook/dodo.py is the same file.
"""

from __future__ import annotations

from tasks.project import dodo

globals().update(dodo())
