"""Make `srvthreds_demo` importable whether pytest runs from the repo root or in
the builder image, without installing it."""

from __future__ import annotations

import sys
from pathlib import Path

DEMO_ROOT = str(Path(__file__).resolve().parent.parent)
if DEMO_ROOT not in sys.path:
    sys.path.insert(0, DEMO_ROOT)
