"""tasks/ops/compose_volumes.py against the fake `docker` and `docker-compose` (testing/fakes):
which data volumes a stack has, creating them with an id, and their identity, which changes
when they are recreated and never when a database writes to them."""

from __future__ import annotations

from pathlib import Path

from tasks.ops import compose as cops
from tasks.ops import compose_volumes as volumes
from testing.composebox import PROJECT, Box, box, record_ref, write_env

__all__ = ["box"]  # the fixture


def test_volume_ids_change_with_the_volumes_and_are_none_when_one_is_missing(box: Box) -> None:
    assert volumes.data_volumes(box.stack) == [f"{PROJECT}_rabbitmq-data", f"{PROJECT}_redis-data"]
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
