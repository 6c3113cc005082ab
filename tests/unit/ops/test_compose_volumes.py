"""tasks/ops/compose_volumes.py against the fake `docker` and `docker-compose` (testing/fakes):
which data volumes a stack has, creating them with an id, and their identity, which changes
when they are recreated and never when a database writes to them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tasks.ops import compose as cops
from tasks.ops import compose_volumes as volumes
from testing.composebox import PROJECT, Box, box, record_ref, write_env

__all__ = ["box"]  # the fixture


def test_volume_ids_change_with_the_volumes_and_are_none_when_one_is_missing(box: Box) -> None:
    assert volumes.data_volumes(box.stack) == [
        f"{PROJECT}_prometheus-data",
        f"{PROJECT}_rabbitmq-data",
        f"{PROJECT}_redis-data",
    ]
    assert volumes.identity(box.stack) is None  # not created yet
    write_env("RABBITMQ_PASSWORD=x\n")
    record_ref("redis", "r:1")
    record_ref("rabbitmq", "q:1")
    live = cops.Live(PROJECT)
    cops.up(box.stack, live, ["redis"], "databases")  # creates the project's volumes
    first = volumes.identity(box.stack)
    assert first is not None and f"{PROJECT}_redis-data" in first
    assert volumes.identity(box.stack) == first
    cops.down(box.stack, live, wipe=True)
    cops.up(box.stack, live, ["redis"], "databases")
    again = volumes.identity(box.stack)
    assert again is not None and again != first


def test_a_stack_without_data_volumes_has_a_constant_identity(box: Box) -> None:
    db_file = Path(box.stack.files[0])
    db_file.write_text("name: x\nservices: {}\n")
    assert volumes.data_volumes(box.stack) == []
    assert volumes.identity(box.stack) == ""
    assert box.fakes.calls("docker") == []
    db_file.write_text("services: [unclosed\n")
    assert volumes.data_volumes(box.stack) == []
    db_file.unlink()
    assert volumes.data_volumes(box.stack) == []


def test_volumes_are_created_with_composes_labels_and_a_random_id_once(box: Box) -> None:
    made = volumes.ensure(box.stack)
    assert made == [f"{PROJECT}_prometheus-data", f"{PROJECT}_rabbitmq-data", f"{PROJECT}_redis-data"]
    labels = box.daemon.volume_labels(f"{PROJECT}_redis-data")
    assert labels[volumes.PROJECT_LABEL] == PROJECT and labels[volumes.VOLUME_LABEL] == "redis-data"
    assert re.fullmatch(r"[0-9a-f]{32}", labels[volumes.ID_LABEL])
    ids = {name: box.daemon.volume_labels(name)[volumes.ID_LABEL] for name in made}
    assert len(set(ids.values())) == 3  # one id per volume
    assert volumes.ensure(box.stack) == []  # existing volumes are never touched
    assert {name: box.daemon.volume_labels(name)[volumes.ID_LABEL] for name in made} == ids
    identity = volumes.identity(box.stack)
    assert identity == "\n".join(f"{name} {ids[name]}" for name in made)
    # A database writes its data: Docker 20.10 moves the volume's CreatedAt, never its labels.
    box.daemon.write_to_volume(f"{PROJECT}_redis-data")
    assert volumes.identity(box.stack) == identity


def test_a_daemon_that_cannot_list_volumes_creates_none(box: Box) -> None:
    box.fakes.script("docker", "echo 'Cannot connect to the Docker daemon' >&2; exit 1\n")
    assert volumes.ensure(box.stack) == []
    assert volumes.identity(box.stack) is None


OURS = "0123456789abcdef0123456789abcdef"
OTHER = "ffffffffffffffffffffffffffffffff"


@pytest.mark.parametrize(
    ("saved", "current", "same"),
    [
        (f"p_a {OURS}", f"p_a {OURS}", True),
        (f"p_a {OURS}", f"p_a {OTHER}", False),  # recreated with a new id
        (f"p_a {OURS}", "p_a -", False),  # our id is gone: the volume was made again by hand
        ("p_a 2026-12-07T01:54:16Z", "p_a -", True),  # an older version's value, the same old volume
        ("p_a 2026-12-07T01:54:16Z", f"p_a {OURS}", False),  # the old volume was wiped and made again
        (f"p_a {OURS}", f"p_a {OURS}\np_b {OTHER}", False),  # another volume now
        ("", "", True),  # no data volumes at all
        (None, f"p_a {OURS}", False),  # never ran
        (f"p_a {OURS}", None, False),  # a volume is missing
    ],
)
def test_unchanged_compares_ids_and_lets_an_unlabelled_volume_keep_its_name(
    saved: str | None, current: str | None, same: bool
) -> None:
    assert volumes.unchanged(saved, current) is same
