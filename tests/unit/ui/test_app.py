"""tasks/ui/app.py through Starlette's TestClient (no daemon, no socket): the page, the state,
the event stream, and the refusals: a foreign Host, a foreign Origin, a POST without token."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tasks.ops.compose import MASK
from tasks.ui.actions import Queue
from tasks.ui.app import build, page, stream
from tasks.ui.board import Board, Header, Item
from tasks.ui.guard import TOKEN_HEADER, Guard

ORIGIN = "http://127.0.0.1:10360"
TOKEN = "session-token"


class Recorder:
    """Stands in for `doit` (tasks/ui/actions.py `doit_runner`): records each run's arguments
    and blocks until released, so a second click arrives while the first runs."""

    def __init__(self) -> None:
        self.runs: list[list[str]] = []
        self.release = threading.Event()

    def __call__(self, args: list[str], echo: object) -> bool:
        self.runs.append(args)
        self.release.wait(5)
        return True


@pytest.fixture
def board() -> Board:
    b = Board(Header("offline", "compose", "abc1234", False), secrets=["pa55word-xyz"])
    b.set_rows([Item("engine", "service", "srv/engine:1", False, "1", "0", "failed", "exited (1)")])
    return b


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(board: Board, recorder: Recorder) -> Iterator[TestClient]:
    queue = Queue(board, "offline", "compose", recorder, {"engine"})
    app = build(board, queue, Guard("127.0.0.1", 10360, TOKEN), threading.Event())
    with TestClient(app, base_url=ORIGIN) as c:
        yield c
    recorder.release.set()
    queue.stop()


def _post(client: TestClient, body: dict[str, str], **headers: str) -> tuple[int, str]:
    res = client.post("/api/action", content=json.dumps(body), headers=headers)
    return res.status_code, res.text


def test_the_page_carries_the_session_token_and_its_assets_are_served(client: TestClient) -> None:
    res = client.get("/")
    assert res.status_code == 200
    assert f'<meta name="token" content="{TOKEN}">' in res.text
    assert client.get("/static/app.js").status_code == 200
    assert "EventSource" in client.get("/static/app.js").text


def test_the_state_shows_the_rows_with_their_reason(client: TestClient) -> None:
    state = client.get("/api/state").json()
    assert state["header"] == {
        "env": "offline",
        "runtime": "compose",
        "commit": "abc1234",
        "read_only": False,
    }
    assert state["rows"][0]["verdict"] == "failed" and state["rows"][0]["reason"] == "exited (1)"


def test_a_foreign_host_is_refused(client: TestClient) -> None:
    res = client.get("/api/state", headers={"Host": "rebound.attacker.example:10360"})
    assert res.status_code == 403 and "foreign Host" in res.text


def test_a_foreign_origin_on_a_post_is_refused(client: TestClient, recorder: Recorder) -> None:
    code, text = _post(
        client, {"verb": "rebuild", "name": "engine"}, Origin="http://evil.example", **{TOKEN_HEADER: TOKEN}
    )
    assert (code, "foreign Origin" in text) == (403, True)
    assert recorder.runs == []


def test_a_post_without_the_token_is_refused(client: TestClient, recorder: Recorder) -> None:
    code, text = _post(client, {"verb": "rebuild", "name": "engine"}, Origin=ORIGIN)
    assert (code, "token" in text) == (403, True)
    time.sleep(0.1)
    assert recorder.runs == []


def test_a_second_click_while_one_waits_is_queued_once(client: TestClient, recorder: Recorder) -> None:
    headers = {"Origin": ORIGIN, TOKEN_HEADER: TOKEN}
    assert _post(client, {"verb": "rebuild", "name": "engine"}, **headers)[0] == 200
    deadline = time.monotonic() + 5
    while not recorder.runs and time.monotonic() < deadline:
        time.sleep(0.02)
    # The first runs (and blocks); the second waits; the third is the same waiting action.
    states = [json.loads(_post(client, {"verb": "rebuild", "name": "engine"}, **headers)[1])["state"]]
    states += [json.loads(_post(client, {"verb": "rebuild", "name": "engine"}, **headers)[1])["state"]]
    assert states == ["queued", "already queued"]
    recorder.release.set()
    deadline = time.monotonic() + 5
    while len(recorder.runs) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    assert recorder.runs == [["images:engine", "compose_up_services", "env=offline"]] * 2


def test_an_unknown_row_is_not_an_action(client: TestClient) -> None:
    code, text = _post(client, {"verb": "rebuild", "name": "nope"}, Origin=ORIGIN, **{TOKEN_HEADER: TOKEN})
    assert code == 400 and "no such action" in text


def test_a_read_only_page_refuses_every_action(board: Board) -> None:
    app = build(board, None, Guard("127.0.0.1", 10360, TOKEN), threading.Event())
    with TestClient(app, base_url=ORIGIN) as c:
        code, text = _post(c, {"verb": "stale"}, Origin=ORIGIN, **{TOKEN_HEADER: TOKEN})
    assert code == 403 and "read-only" in text


def test_a_secret_written_to_a_log_appears_masked(client: TestClient, board: Board) -> None:
    board.add_lines("engine", ["DB_PASSWORD=pa55word-xyz connecting"])
    text = client.get("/api/state").text
    assert "pa55word-xyz" not in text
    assert json.loads(text)["logs"]["engine"] == [f"DB_PASSWORD={MASK} connecting"]


def test_the_graph_is_not_available_without_doit_graph(client: TestClient) -> None:
    res = client.get("/api/graph")
    assert res.status_code == 404 and "not available" in res.text


def test_the_event_stream_sends_everything_then_a_change_within_a_second(board: Board) -> None:
    async def first_two() -> tuple[dict[str, object], dict[str, object], float]:
        gen = stream(board, threading.Event())
        first = json.loads((await anext(gen)).removeprefix("data: "))
        changed = time.monotonic()
        board.add_lines("engine", ["a new line"])
        second = json.loads((await anext(gen)).removeprefix("data: "))
        return first, second, time.monotonic() - changed

    first, second, took = asyncio.run(first_two())
    assert first["full"] is True and second["full"] is False
    assert second["logs"] == {"engine": ["a new line"]}
    assert took < 1.0


def test_the_page_escapes_what_it_fills_in() -> None:
    text = page('"><script>', "offline")
    assert '"><script>' not in text and "&quot;&gt;&lt;script&gt;" in text


def test_an_open_event_stream_counts_as_a_viewer_until_it_closes(board: Board) -> None:
    async def open_then_close() -> tuple[int, int]:
        gen = stream(board, threading.Event())
        await anext(gen)
        during = board.viewers
        await gen.aclose()
        return during, board.viewers

    assert board.viewers == 0
    assert asyncio.run(open_then_close()) == (1, 0)
