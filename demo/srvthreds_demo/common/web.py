"""A tiny JSON-over-HTTP server on the standard library.

Request handling is a plain function of (method, path, body) so services are
tested without sockets; this module only adapts it to http.server.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import metrics
from .probes import Probe, run_probes

Response = tuple[int, dict[str, Any]]
App = Callable[[str, str, bytes], Response]

log = logging.getLogger(__name__)
MAX_BODY = 1 << 20


def health(probes: dict[str, Probe]) -> Response:
    checks = run_probes(probes)
    down = sorted(name for name, result in checks.items() if result != "ok")
    if down:
        return 503, {"status": "down", "down": down, "checks": checks}
    return 200, {"status": "ok", "checks": checks}


def health_app(probes: dict[str, Probe]) -> App:
    def app(method: str, path: str, body: bytes) -> Response:
        if method == "GET" and path == "/healthz":
            return health(probes)
        return 404, {"error": "not found"}

    return app


def make_server(app: App, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """`app` behind HTTP, counted and timed, with its metrics at GET /metrics (metrics.py)."""
    app = metrics.instrumented(app)

    class Handler(BaseHTTPRequestHandler):
        def _dispatch(self, method: str) -> None:
            if method == "GET" and self.path.split("?", 1)[0] == metrics.PATH:
                self._send(200, *metrics.page())
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                status, payload = 413, {"error": "body too large"}
            else:
                body = self.rfile.read(length) if length else b""
                try:
                    status, payload = app(method, self.path.split("?", 1)[0], body)
                except Exception:
                    log.exception("%s %s failed", method, self.path)
                    status, payload = 500, {"error": "internal error"}
            self._send(status, json.dumps(payload).encode(), "application/json")

        def _send(self, status: int, data: bytes, content_type: str) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (a health probe past its timeout): nothing to answer, and
                # not worth a traceback that would push the service's real errors out of the logs.
                log.debug("%s: the client went away before the answer", self.path)

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def log_message(self, format: str, *args: Any) -> None:
            # Health probes hit every few seconds; keep them out of info logs.
            log.debug("%s " + format, self.address_string(), *args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve_in_background(app: App, port: int) -> ThreadingHTTPServer:
    """For workers whose main thread consumes a queue but must still answer health."""
    server = make_server(app, port)
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    return server
