"""The data volumes of a Compose stack: which they are, creating them, and their identity.

`compose_jobs` runs again when the data volumes were recreated (their work is gone), so it
needs an identity that changes exactly then. A volume's `CreatedAt` is no such thing: on
Docker 20.10 it is the time of its `_data` folder, which moves whenever the database
writes there (docs/decisions.md, "Volume identity"). So the tool creates each data volume
itself, before Compose would, with a random id in a label (labels never change after
creation); Compose then uses it as its own (same project and volume labels).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import yaml

from tasks.ops.compose_stack import Stack
from tasks.programs import docker

ID_LABEL = "stackbuild.volume-id"
# What Compose itself labels a project's volumes with: it adopts a volume that has them.
PROJECT_LABEL = "com.docker.compose.project"
VOLUME_LABEL = "com.docker.compose.volume"
NO_ID = "-"  # a volume made without our label (by Compose, before the tool labelled them)
_OURS = re.compile(r"[0-9a-f]{32}")


def volume_keys(stack: Stack) -> list[str]:
    """The volume names the database file declares (`volumes:`), as Compose's keys."""
    try:
        doc = yaml.safe_load(Path(stack.files[0]).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    return sorted(str(name) for name in (doc.get("volumes") or {}))


def data_volumes(stack: Stack) -> list[str]:
    """The Docker names of the data volumes (`<project>_<key>`)."""
    return [f"{stack.project}_{key}" for key in volume_keys(stack)]


def ensure(stack: Stack) -> list[str]:
    """Create the data volumes that do not exist yet, each with a new random id; return
    the names created. An existing volume is never touched (its data and labels stay)."""
    keys = volume_keys(stack)
    if not keys:
        return []
    existing = docker.volumes(f"{PROJECT_LABEL}={stack.project}")
    if existing is None:
        return []  # the daemon cannot be asked: Compose's own call says why, in one sentence
    made = []
    for key in keys:
        name = f"{stack.project}_{key}"
        if name not in existing:
            labels = {PROJECT_LABEL: stack.project, VOLUME_LABEL: key, ID_LABEL: uuid.uuid4().hex}
            docker.create_volume(name, labels)
            made.append(name)
    return made


def identity(stack: Stack) -> str | None:
    """One line per data volume, `<name> <id>` (`-` for a volume without our id); "" for a
    stack without data volumes; None when one of them does not exist."""
    names = data_volumes(stack)
    if not names:
        return ""
    found = docker.volume_labels(names, ID_LABEL)
    if found is None:
        return None
    return "\n".join(f"{name} {found.get(name) or NO_ID}" for name in names)


def _parse(text: str) -> dict[str, str]:
    return dict(line.partition(" ")[::2] for line in text.splitlines() if line.strip())


def unchanged(saved: object, current: str | None) -> bool:
    """Are these the volumes the jobs last ran against?

    The same names, each with the same id. A volume without our id (made before the tool
    labelled volumes) cannot prove it is the same one; its name is taken as enough, unless
    the saved value held one of our ids for it (labels never vanish: it was recreated).
    What an older version saved (`<name> <CreatedAt>`) is such a value, so upgrading does
    not run a job again."""
    if current is None or not isinstance(saved, str):
        return False
    was, now = _parse(saved), _parse(current)
    if was.keys() != now.keys():
        return False
    return all(now[n] == was[n] or (now[n] == NO_ID and not _OURS.fullmatch(was[n])) for n in now)


def mismatch(stack: Stack, what: str) -> str:
    return (
        f"{what}, but the data volumes of Compose project {stack.project} exist and keep "
        f"the passwords they were created with"
    )


def mismatch_fix(stack: Stack) -> str:
    return (
        f"restore the {stack.env_file} that created them (e.g. copy it from the other checkout), "
        f"or run `doit compose_down env={stack.env} wipe=1` to delete the data and start fresh"
    )
