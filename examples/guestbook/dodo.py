"""doit entry point of the guestbook: the same tasks as the stackbuild repository.

Run from this folder (`doit list`); output goes to compose/, k8s/, docs/ and .build/ here.
"""

from __future__ import annotations

from tasks.project import dodo

globals().update(dodo())
