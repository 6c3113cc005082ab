"""tasks/ui/server.py: start and stop the page on the offline environment's Compose files (the
fake docker and docker-compose of testing/composebox.py), a taken port, and the token an
address off loopback needs."""

from __future__ import annotations

import json
import socket
import urllib.request

import pytest

from tasks.errors import StackError
from tasks.ui import server
from testing.composebox import ENV, Box, add, box
from testing.project import REPO

__all__ = ["box"]  # the fixture


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_start_serves_the_environments_rows_then_stops(box: Box) -> None:
    add(box, "engine", health="unhealthy")
    port = _free_port()
    handle = server.start(ENV, port=port, root=REPO)
    try:
        assert handle.url == f"http://127.0.0.1:{port}/"
        with urllib.request.urlopen(handle.url + "api/state", timeout=5) as res:
            state = json.loads(res.read())
        assert state["header"]["env"] == ENV and state["header"]["runtime"] == "compose"
        rows = {r["name"]: r for r in state["rows"]}
        assert rows["engine"]["verdict"] == "failed" and rows["engine"]["reason"].startswith("unhealthy")
        assert (rows["redis"]["kind"], rows["redis"]["verdict"], rows["redis"]["reason"]) == (
            "database",
            "stale",
            "not started",
        )
    finally:
        handle.stop()
    with pytest.raises(OSError):
        urllib.request.urlopen(handle.url + "api/state", timeout=2)


def test_a_taken_port_is_one_sentence_naming_the_option() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(StackError) as info:
            server.bind("127.0.0.1", port)
    assert info.value.message == f"port {port} on 127.0.0.1 is taken"
    assert "port=" in (info.value.fix or "")


def test_an_address_off_loopback_needs_a_long_token() -> None:
    for weak in ("", "a", "x" * (server.MIN_TOKEN - 1)):
        with pytest.raises(StackError, match="not loopback\\) needs a token of at least 16 characters"):
            server.check_bind("0.0.0.0", weak)
    strong = "k" * server.MIN_TOKEN
    assert server.check_bind("0.0.0.0", strong) == strong
    assert len(server.check_bind("127.0.0.1", "")) > 20  # a fresh token per session


@pytest.mark.parametrize("port", [0, -1, 65536, 99999999999])
def test_a_port_outside_the_tcp_range_is_one_sentence(port: int) -> None:
    with pytest.raises(StackError) as info:
        server.start("offline", port=port)
    assert info.value.message == f"port={port} is not a TCP port"
    assert "1 to 65535" in (info.value.fix or "")


def test_the_graph_is_doit_graphs_picture_of_the_environment() -> None:
    svg = server.graph_svg("offline", REPO)
    assert "<svg" in svg and "compose_up" in svg
