"""Release records: which image each workload of an environment runs, as small JSON text.

Two of them live in the deploy record (tasks/ops/deploy_record.py): the release last seen
healthy (written by a deploy or a rollback only once every workload was ready) and the
known-good release the last deploy replaced (what `rollback:<env>` re-applies).

Both are small JSON text (sorted keys, image refs only, no secrets). What an environment
should run is the committed release record (tasks/ops/release_record.py), not these.
Rolling back re-applies a record instead of undoing one revision: doing it twice, or
after the deploy already undid its own failure, changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Release:
    """One release record: `refs` maps each image name to its repo:tag; `text` is the record
    as stored, copied byte for byte when it is exported or becomes known-good."""

    refs: dict[str, str]
    text: str


def parse(text: str) -> Release | None:
    """The record in `text`; None when it is not one (not JSON, or no `refs` object)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not (isinstance(data, dict) and isinstance(data.get("refs"), dict)):
        return None
    return Release({str(k): str(v) for k, v in data["refs"].items()}, text)


def text(env: str, refs: Mapping[str, str], registry: str | None) -> str:
    images = {name: f"{registry}/{ref}" if registry else ref for name, ref in refs.items()}
    doc = {"env": env, "refs": dict(sorted(refs.items())), "images": dict(sorted(images.items()))}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
