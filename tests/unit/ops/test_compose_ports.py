"""tasks/ops/compose_ports.py: every host port a stack publishes is checked before anything
starts, on the machine's real sockets, and a busy one is named with its service and holder
(the fake `docker` says which container publishes it)."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator

import pytest

from tasks.errors import StackError
from tasks.model import Port
from tasks.ops import compose as cops
from tasks.ops import compose_ports
from tasks.ops.compose_stack import Stack
from testing.composebox import ENV, PROJECT, Box, box, record_ref, write_env

__all__ = ["box"]  # the fixture


@pytest.fixture
def held() -> Iterator[int]:
    """A port this test holds (a listening socket on an ephemeral port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("0.0.0.0", 0))
        sock.listen()
        yield sock.getsockname()[1]


def publishing(stack: Stack, db_port: int, service_port: int) -> Stack:
    """The stack with redis published at `db_port` and session-agent at `service_port`."""
    cfg = stack.cfg
    dbs = {
        n: dataclasses.replace(d, publish=db_port if n == "redis" else None) for n, d in cfg.databases.items()
    }
    services = {
        n: dataclasses.replace(s, ports=tuple(Port(p.name, p.port, service_port) for p in s.ports))
        if n == "session-agent"
        else dataclasses.replace(s, ports=tuple(dataclasses.replace(p, publish=None) for p in s.ports))
        for n, s in cfg.services.items()
    }
    return Stack(dataclasses.replace(cfg, databases=dbs, services=services))


def test_the_real_socket_says_whether_a_port_is_free(held: int) -> None:
    assert compose_ports.free(held) is False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("0.0.0.0", 0))
        released = sock.getsockname()[1]
    assert compose_ports.free(released) is True


def test_a_busy_port_stops_the_first_step_before_any_database_starts(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env("RABBITMQ_PASSWORD=x\n")
    for name in ("redis", "rabbitmq"):
        record_ref(name, f"{name}:1")
    stack = publishing(box.stack, 16379, 13000)
    assert compose_ports.published(stack) == {13000: "session-agent", 16379: "redis"}
    # A container of another project publishes the service's port; the database's is free.
    other = {"com.docker.compose.project": "other-local", "com.docker.compose.service": "web"}
    box.daemon.add_container("other-web-1", "img", state="running", labels=other, ports=[13000])
    monkeypatch.setattr(compose_ports, "free", lambda port: port != 13000)
    with pytest.raises(StackError) as info:
        cops.up(stack, cops.Live(PROJECT), ["redis", "rabbitmq"], "databases")
    assert info.value.message == (
        f"1 host port(s) the stack of environment {ENV} publishes are in use; nothing was started:\n"
        "  host port 13000 (session-agent) is held by container other-web-1 of Compose project other-local"
    )
    assert info.value.fix is not None and f"change `publish:` in environments/{ENV}.yaml" in info.value.fix
    assert box.compose_argvs() == []  # no database was started: no half stack


def test_a_port_held_by_something_outside_docker_is_named_so(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = publishing(box.stack, 16379, 13000)
    monkeypatch.setattr(compose_ports, "free", lambda port: port != 16379)
    with pytest.raises(StackError, match=r"host port 16379 \(redis\) is held by a process outside Docker"):
        compose_ports.check_free(stack)


def test_ports_the_stack_itself_holds_are_not_in_the_way(box: Box, monkeypatch: pytest.MonkeyPatch) -> None:
    stack = publishing(box.stack, 16379, 13000)
    mine = {"com.docker.compose.project": PROJECT, "com.docker.compose.service": "redis"}
    box.daemon.add_container(f"{PROJECT}-redis-1", "img", state="running", labels=mine, ports=[16379])
    monkeypatch.setattr(compose_ports, "free", lambda port: port != 16379)
    compose_ports.check_free(stack)
    # Under runtime kubernetes the services run in the cluster: only the databases' ports count.
    kube = Stack(dataclasses.replace(stack.cfg, runtime="kubernetes"))
    assert compose_ports.published(kube) == {16379: "redis"}
