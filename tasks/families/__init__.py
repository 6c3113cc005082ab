"""Task families (one module per doit family): doit task dicts only; they call operations.

Each family registers its creators and public tasks as it is imported
(tasks/families/shared/registry.py); `load` imports every one, found in this folder.
"""

from __future__ import annotations

import importlib
import pkgutil


def load() -> None:
    """Import every family module, so that the registry holds all of them (idempotent)."""
    for module in pkgutil.iter_modules(__path__):
        if not module.ispkg:  # shared/ is what the families share, not a family
            importlib.import_module(f"{__name__}.{module.name}")
