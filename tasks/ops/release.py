"""Release records: which image each workload of an environment runs, as small JSON files.

  .build/<env>/deploy/release.json     the release last seen healthy (written by a deploy
                                       or a rollback only once every workload was ready)
  .build/<env>/deploy/known-good.json  the healthy release the last deploy replaced: what
                                       `rollback:<env>` re-applies

Both are committed-friendly (sorted keys, image refs only, no secrets), so a promotion
step can copy one into the repository (`release_export:<env>` writes releases/<env>.json).
Rolling back re-applies a record instead of undoing one revision: doing it twice, or
after the deploy already undid its own failure, changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tasks.store import atomic


def current_file(state: Path) -> Path:
    return state / "release.json"


def known_good_file(state: Path) -> Path:
    return state / "known-good.json"


def read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("refs"), dict) else None


def text(env: str, refs: Mapping[str, str], registry: str | None) -> str:
    images = {name: f"{registry}/{ref}" if registry else ref for name, ref in refs.items()}
    doc = {"env": env, "refs": dict(sorted(refs.items())), "images": dict(sorted(images.items()))}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def write(path: Path, env: str, refs: Mapping[str, str], registry: str | None) -> None:
    atomic.write_text(path, text(env, refs, registry))


def remember_replaced(state: Path, new_refs: Mapping[str, str]) -> None:
    """Before a deploy changes images: the healthy release it replaces becomes known-good."""
    live = read(current_file(state))
    if live is not None and live["refs"] != dict(new_refs):
        atomic.write_text(known_good_file(state), current_file(state).read_text(encoding="utf-8"))
