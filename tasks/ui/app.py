"""The page's HTTP side (Starlette): the page, its assets, the state, the event stream and the
one POST that runs an action. Every request first passes `guard.Guard`."""

from __future__ import annotations

import asyncio
import html
import json
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable, MutableMapping
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tasks.errors import StackError
from tasks.ui.actions import VERBS, Action, Queue
from tasks.ui.board import Board
from tasks.ui.guard import TOKEN_HEADER, Guard

Scope = MutableMapping[str, Any]
ASGI = Callable[[Scope, Any, Any], Awaitable[None]]
TICK = 0.2  # how often the event stream looks for a change (the page promises 1 s)
KEEPALIVE = 15.0


class Guarded:
    """ASGI middleware: refuses (403, one sentence) what `Guard.refusal` names."""

    def __init__(self, app: ASGI, guard: Guard) -> None:
        self.app, self.guard = app, guard

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            headers = {k.lower(): v for k, v in request.headers.items()}
            why = self.guard.refusal(
                request.method, headers, request.query_params.get("token"), request.url.path
            )
            if why is not None:
                await PlainTextResponse(f"refused: {why}\n", status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def page(token: str, env: str) -> str:
    text = resources.files("tasks.ui").joinpath("static/index.html").read_text(encoding="utf-8")
    return text.replace("{{TOKEN}}", html.escape(token)).replace("{{ENV}}", html.escape(env))


def build(board: Board, actions: Queue | None, guard: Guard, closing: threading.Event) -> Starlette:
    """The application; `actions` None: read-only (a cloud environment), POSTs are refused."""

    async def index(request: Request) -> Response:
        return HTMLResponse(page(guard.token, board.header.env))

    async def state(request: Request) -> Response:
        return JSONResponse(board.snapshot())

    async def graph(request: Request) -> Response:
        if not board.graph:
            return PlainTextResponse("not available\n", status_code=404)
        return Response(board.graph, media_type="image/svg+xml")

    async def events(request: Request) -> Response:
        return StreamingResponse(stream(board, closing), media_type="text/event-stream")

    async def act(request: Request) -> Response:
        if actions is None:
            return PlainTextResponse("refused: this environment is read-only here\n", status_code=403)
        try:
            body = json.loads(await request.body() or b"{}")
            verb, name = str(body.get("verb", "")), str(body.get("name", ""))
        except (ValueError, AttributeError):
            return PlainTextResponse("a JSON object with verb and name\n", status_code=400)
        kinds = {row.name: row.kind for row in board.rows}
        if verb not in VERBS or (verb != "stale" and name not in kinds):
            return PlainTextResponse(f"no such action: {verb} {name}\n", status_code=400)
        try:
            said = actions.submit(Action(verb, name if verb != "stale" else "", kinds.get(name, "")))
        except StackError as exc:
            return PlainTextResponse(exc.message + "\n", status_code=400)
        return JSONResponse({"action": f"{verb} {name}".strip(), "state": said})

    routes = [
        Route("/", index),
        Route("/api/state", state),
        Route("/api/graph", graph),
        Route("/api/events", events),
        Route("/api/action", act, methods=["POST"]),
        Mount("/static", StaticFiles(packages=[("tasks.ui", "static")]), name="static"),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(Guarded, guard=guard)
    return app


async def stream(board: Board, closing: threading.Event) -> AsyncGenerator[str, None]:
    """Server-sent events: the whole state first, then what changed, within TICK of a change."""
    seen, quiet = -1, 0.0
    board.viewer(True)
    try:
        while not closing.is_set():
            if board.version != seen:
                snap = {**board.snapshot(since=max(seen, 0)), "full": seen < 0}
                seen = snap["version"]
                quiet = 0.0
                yield f"data: {json.dumps(snap)}\n\n"
            elif quiet >= KEEPALIVE:
                quiet = 0.0
                yield ": keep-alive\n\n"
            await asyncio.sleep(TICK)
            quiet += TICK
    finally:  # the page closed (or the server stops): one viewer fewer
        board.viewer(False)


__all__ = ["TOKEN_HEADER", "build", "page", "stream"]
