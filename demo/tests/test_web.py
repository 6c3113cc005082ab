"""common/web.py over a real loopback socket: a client that goes away before its answer."""

from __future__ import annotations

import socket
import struct
import threading

import pytest
from srvthreds_demo.common import web


def test_a_client_gone_before_the_answer_leaves_no_traceback(capfd: pytest.CaptureFixture[str]) -> None:
    closed, answered = threading.Event(), threading.Event()

    def app(method: str, path: str, body: bytes) -> web.Response:
        closed.wait(5)  # answer only once the client has reset its connection
        return 200, {"status": "ok", "pad": "x" * 200_000}  # more than the socket buffers take

    server = web.serve_in_background(app, 0)
    real_finish = server.finish_request

    def finish(request: object, address: object) -> None:
        try:
            real_finish(request, address)
        finally:
            answered.set()

    server.finish_request = finish  # type: ignore[method-assign]
    try:
        client = socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        client.close()
        closed.set()
        assert answered.wait(5)
    finally:
        server.shutdown()
        server.server_close()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "ConnectionResetError" not in err and "BrokenPipeError" not in err
