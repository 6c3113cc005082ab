"""tasks/ui/feed.py: rows from the deploy target's own status (here the Minikube runtime's
KubeTarget on the stateful fake cluster), log lines split by service and new since the last
look, and the Watcher that hands both to the board."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.ops.compose import MASK
from tasks.ops.targets import rollout
from tasks.programs import kubectl
from tasks.store import devstate, state
from tasks.ui import feed
from tasks.ui.board import Board, Header
from testing.fakes.cluster import FakeCluster
from testing.k8s_overlay import Kube, kube_target, make_kube


@pytest.fixture
def kube(fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kube:
    return make_kube(fake_cluster, tmp_path, monkeypatch)


def _source(kube: Kube, secrets: list[str] | None = None) -> feed.Source:
    return feed.Source(
        "test",
        "minikube",
        kube_target(kube),
        logs=lambda tail: kubectl.logs(kube.t.scope, "app.kubernetes.io/part-of=acme", tail=tail),
        secrets=lambda: list(secrets or []),
    )


def test_rows_are_the_fake_clusters_workloads_once_deployed(kube: Kube) -> None:
    source = _source(kube)
    rollout.converge(source.target)
    rows = {r.name: r for r in source.items()}
    assert set(rows) == {"web", "init"}
    assert (rows["web"].kind, rows["web"].desired, rows["web"].ready, rows["web"].verdict) == (
        "service",
        "2",
        "2",
        "ok",
    )
    assert rows["web"].image == "acme/web:t1"
    assert rows["init"].kind == "job" and rows["init"].verdict == "ok"


def test_a_failing_rollout_shows_its_reason(kube: Kube) -> None:
    kube.cluster.inject_rollout_failure("web")
    source = _source(kube)
    with pytest.raises(StackError):
        rollout.converge(source.target)
    web = next(r for r in source.items() if r.name == "web")
    assert (web.verdict, web.reason) == ("failed", "CrashLoopBackOff")


def test_the_inner_loops_record_joins_its_row(kube: Kube) -> None:
    source = _source(kube)
    rollout.converge(source.target)
    devstate.update("test", "web", result="ok", seconds=1.5, changed_at=100.0, synced_at=101.0)
    web = next(r for r in source.items() if r.name == "web")
    assert (web.synced, web.result, web.seconds, web.changed_at) == (True, "ok", 1.5, 100.0)


def test_the_watcher_puts_rows_and_masked_pod_logs_on_the_board(kube: Kube) -> None:
    kube.cluster.inject_rollout_failure("web")  # its pods log "cannot connect to rabbitmq"
    source = _source(kube, secrets=["rabbitmq"])
    with pytest.raises(StackError):
        rollout.converge(source.target)
    board = Board(Header("test", "minikube", "-", False), secrets=[])
    feed.Watcher(board, source).look()
    assert [r.verdict for r in board.rows if r.name == "web"] == ["failed"]
    lines = board.log("web")
    assert lines and all("rabbitmq" not in line for line in lines)
    assert any(MASK in line for line in lines)


def test_an_unreadable_state_is_said_and_the_rows_are_kept(
    kube: Kube, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _source(kube)
    board = Board(Header("test", "minikube", "-", False))
    feed.Watcher(board, source).look()
    before = list(board.rows)

    def down() -> list[object]:
        raise StackError("the cluster is not running", fix="start it")

    monkeypatch.setattr(source, "items", down)
    feed.Watcher(board, source).look()
    assert board.rows == before and board.error == "the cluster is not running: start it"


def test_an_unreachable_cluster_is_said_with_its_fix_not_shown_as_nothing_deployed(kube: Kube) -> None:
    source = _source(kube)
    board = Board(Header("test", "minikube", "-", False))
    kube.cluster.stop_cluster()  # the API server refuses connections
    feed.Watcher(board, source).look()
    assert board.rows == []
    assert board.error == (
        "the Kubernetes API of the test cluster is unreachable, so no workload can be read: "
        "check that the cluster is running and that kubectl reaches it"
    )


def test_kinds_by_workload() -> None:
    assert feed.kind_of("service/engine", {"redis"}) == ("service", "engine")
    assert feed.kind_of("service/redis", {"redis"}) == ("database", "redis")
    assert feed.kind_of("deployment/web", set()) == ("service", "web")
    assert feed.kind_of("statefulset/mongo", set()) == ("database", "mongo")
    assert feed.kind_of("job/init", set()) == ("job", "init")


def test_log_lines_split_by_service_for_compose_and_kubectl() -> None:
    text = (
        "engine-1  | 2026-12-07T05:00:00.1Z started\n"
        "session-agent-2  | hello | world\n"
        "[pod/web-5f7c-x2/web] listening\n"
        "Compose's own complaint without a prefix\n"
    )
    assert feed.split(text) == {
        "engine": ["2026-12-07T05:00:00.1Z started"],
        "session-agent": ["hello | world"],
        "web": ["listening"],
    }


def test_new_lines_are_what_follows_the_last_look() -> None:
    assert feed.new_lines([], ["a", "b"]) == ["a", "b"]
    assert feed.new_lines(["a", "b"], ["a", "b"]) == []
    assert feed.new_lines(["a", "b", "c"], ["b", "c", "d", "e"]) == ["d", "e"]
    assert feed.new_lines(["x"], ["y", "z"]) == ["y", "z"]  # more than a tail was written


def test_the_watcher_looks_each_interval_only_while_a_page_is_open(kube: Kube) -> None:
    source, looks = _source(kube), []
    board = Board(Header("test", "minikube", "-", False))
    watcher = feed.Watcher(board, source, interval=0.01, idle=1000.0)
    watcher.look = lambda: looks.append(board.viewers)  # type: ignore[method-assign]
    watcher.start()
    try:
        time.sleep(0.3)
        assert looks == [0]  # nobody on the page: the first look only, then one per `idle`
        board.viewer(True)
        deadline = time.monotonic() + 10
        while len(looks) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(looks) >= 5 and looks[1:] == [1] * (len(looks) - 1)
        board.viewer(False)
        time.sleep(0.1)
        settled = len(looks)
        time.sleep(0.3)
        assert len(looks) == settled
    finally:
        watcher.stop()


def test_the_watcher_does_not_look_while_a_run_holds_the_checkout(
    kube: Kube, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder: list[str | None] = ["pid 1 (`doit dev`)"]
    monkeypatch.setattr(state, "lock_holder", lambda: holder[0])
    source, looks = _source(kube), []
    board = Board(Header("test", "minikube", "-", False))
    board.viewer(True)  # a page is open: without the run it would look each interval
    watcher = feed.Watcher(board, source, interval=0.01, idle=1000.0)
    watcher.look = lambda: looks.append(1)  # type: ignore[method-assign]
    watcher.start()
    try:
        time.sleep(0.3)
        assert looks == [] and board.busy == "pid 1 (`doit dev`)"
        assert board.snapshot()["busy"] == "pid 1 (`doit dev`)"
        holder[0] = None
        deadline = time.monotonic() + 10
        while not looks and time.monotonic() < deadline:
            time.sleep(0.01)
        assert looks and board.busy == ""
    finally:
        watcher.stop()


def test_rows_are_read_in_full_only_when_the_sign_or_the_loops_records_change(
    kube: Kube, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign, reads = ["containers a"], []
    source = _source(kube)
    source.identity = lambda: sign[0]
    full = source.items

    def counted() -> list[object]:
        reads.append(1)
        return list(full())

    monkeypatch.setattr(source, "items", counted)
    board = Board(Header("test", "minikube", "-", False))
    watcher = feed.Watcher(board, source)
    for _ in range(3):
        watcher.look()
    assert len(reads) == 1 and board.rows  # nothing changed: the sign alone was asked
    sign[0] = "containers b"  # a container replaced, stopped, unhealthy
    watcher.look()
    assert len(reads) == 2
    devstate.update("test", "web", result="ok", seconds=1.0)  # a cycle of the inner loop
    watcher.look()
    watcher.look()
    assert len(reads) == 3
    watcher.forget()  # a run ended
    watcher.look()
    assert len(reads) == 4
    monkeypatch.setattr(feed, "FULL", 0.0)  # and at least every FULL seconds, whatever the sign
    watcher.look()
    assert len(reads) == 5


def test_a_failed_full_read_is_retried_at_the_next_look(kube: Kube, monkeypatch: pytest.MonkeyPatch) -> None:
    source, failing = _source(kube), [True]
    source.identity = lambda: "the same containers"
    full = source.items

    def flaky() -> list[object]:
        if failing[0]:
            raise StackError("the daemon is not running", fix="start it")
        return list(full())

    monkeypatch.setattr(source, "items", flaky)
    board = Board(Header("test", "minikube", "-", False))
    watcher = feed.Watcher(board, source)
    watcher.look()
    assert board.error == "the daemon is not running: start it" and not board.rows
    failing[0] = False
    watcher.look()  # the same sign, but the last read failed: read again
    assert board.rows and board.error == ""
