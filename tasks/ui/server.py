"""Serving the page: uvicorn in a background thread, for `doit ui` and for `doit dev`.

    handle = start("offline")            # http://127.0.0.1:10360, returns at once
    handle.url, handle.stop()

The port is bound here first, so a taken one is one sentence naming the `port=` option, not
uvicorn's traceback. Loopback unless `host=` says otherwise, and then only with `token=`.
The page holds no run lock while it serves: its actions are doit runs that take it.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import importlib
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from tasks.config import load as config
from tasks.errors import StackError
from tasks.output import console
from tasks.store import state
from tasks.ui import HOST as HOST
from tasks.ui import PORT as PORT
from tasks.ui import feed
from tasks.ui.actions import Queue, doit_runner
from tasks.ui.app import build
from tasks.ui.board import Board
from tasks.ui.guard import Guard, is_loopback

MIN_TOKEN = 16  # off loopback the token is all that stands between the network and the buttons


@dataclass
class Handle:
    url: str
    board: Board
    token: str
    _server: uvicorn.Server
    _thread: threading.Thread
    _watcher: feed.Watcher
    _queue: Queue | None
    _closing: threading.Event = field(default_factory=threading.Event)

    def stop(self, *, wait: float = 10.0) -> None:
        """Stop serving (the event streams end, then uvicorn), waiting at most `wait` seconds in
        all: the threads are daemons, so a caller that must exit soon (`doit dev` on Ctrl-C)
        passes a short wait and a look or an action still running ends with the process."""
        deadline = time.monotonic() + wait
        self._closing.set()
        self._server.should_exit = True
        self._watcher.stop(wait=max(0.0, deadline - time.monotonic()))
        self._thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if self._queue is not None:
            self._queue.stop(wait=max(0.0, deadline - time.monotonic()))


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            fix = f"choose another with `port=<n>` (e.g. port={port + 1})"
            raise StackError(f"port {port} on {host} is taken", fix=fix) from None
        raise StackError(f"cannot listen on {host}:{port}: {exc.strerror}", fix="check `host=`") from None
    sock.listen(64)
    sock.setblocking(False)
    return sock


def check_port(port: int) -> None:
    """A port the page can be opened on (0 would pick one at random, which nobody can guess)."""
    if not 1 <= port <= 65535:
        raise StackError(f"port={port} is not a TCP port", fix="choose one from 1 to 65535, e.g. port=10360")


def check_bind(host: str, token: str) -> str:
    """The session's token: the given one, or a fresh one on loopback."""
    if is_loopback(host):
        return token or secrets.token_urlsafe(24)
    if len(token) < MIN_TOKEN:
        raise StackError(
            f"serving the page on {host} (not loopback) needs a token of at least {MIN_TOKEN} characters",
            fix="add `token=$(openssl rand -hex 16)` (a long random value), or leave out `host=`",
        )
    return token


def graph_svg(env: str, root: Path) -> str:
    """The task graph of `doit graph` (tasks/ops/graph.py), or "" where it is not available
    (no Graphviz, or a checkout without that module)."""
    try:
        module = importlib.import_module("tasks.ops.graph")
        return str(module.svg(env, root=root))
    except (ImportError, AttributeError, StackError):
        return ""


def draw_graph(board: Board, env: str, root: Path) -> None:
    """Draw the graph in the background: it asks doit in a child process (seconds)."""
    threading.Thread(
        target=lambda: board.set_graph(graph_svg(env, root)), name="ui-graph", daemon=True
    ).start()


def start(
    env: str,
    *,
    host: str = HOST,
    port: int = PORT,
    token: str = "",
    root: Path | None = None,
    interval: float = 1.0,
) -> Handle:
    """Serve the page of environment `env` in a background thread; returns once it listens."""
    root = root or Path.cwd()
    check_port(port)
    token = check_bind(host, token)
    source = feed.for_config(config.load(env, root))
    sock = bind(host, port)
    board = Board(feed.header(source, root))
    redraw = functools.partial(draw_graph, board, env, root)
    queue = (
        None
        if source.read_only
        else Queue(board, env, source.runtime, doit_runner(root), source.built, redraw)
    )
    closing = threading.Event()
    app = build(board, queue, Guard(host, port, token), closing)
    options = {"log_level": "warning", "lifespan": "off", "timeout_graceful_shutdown": 1, "access_log": False}
    server = uvicorn.Server(uvicorn.Config(app, **options))  # type: ignore[arg-type]
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    watcher = feed.Watcher(board, source, interval=interval)
    watcher.look()  # the first rows before the first visitor
    redraw()
    watcher.start()
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    shown = host if ":" not in host else f"[{host.strip('[]')}]"
    # Off loopback every request needs the token: the address to open carries it.
    query = "" if is_loopback(host) else f"?token={token}"
    return Handle(f"http://{shown}:{port}/{query}", board, token, server, thread, watcher, queue, closing)


def serve(env: str, *, host: str = HOST, port: int = PORT, token: str = "") -> None:
    """`doit ui`: serve until Ctrl-C, without holding the run lock (the buttons' runs take it)."""
    state.release_lock()
    handle = start(env, host=host, port=port, token=token)
    console.step(f"status page of {env}: {handle.url} (Ctrl-C stops)")
    try:
        while handle._thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.say("stopping the status page")
    finally:
        handle.stop()
