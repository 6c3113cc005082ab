"""tasks/ops/prune.py: which content tags go (the newest N per repository stay, and every
recorded or used image), against the fake `docker` first on PATH."""

from __future__ import annotations

import pytest

from tasks.config import load as config
from tasks.errors import StackError
from tasks.ops import prune
from tasks.programs.docker import Tagged
from tasks.store import state
from testing.dockerd import Daemon, daemon, fakes
from testing.project import REPO

__all__ = ["daemon", "fakes"]  # the fixtures


def tagged(repo: str, n: int, iid: str | None = None) -> Tagged:
    return Tagged(repo, f"{n:012x}", iid or f"sha256:{repo}{n}", f"2026-11-{n:02d} 10:00:00 +0000 UTC")


def test_plan_keeps_the_newest_per_repository_and_every_protected_tag() -> None:
    rows = [tagged("r/a", n) for n in (1, 4, 2, 3)] + [tagged("r/b", n) for n in (1, 2)]
    doomed = prune.plan(rows, keep=2, protected_refs=set(), used_ids=set())
    assert [t.ref for t in doomed] == ["r/a:000000000002", "r/a:000000000001"]
    assert prune.plan(rows, keep=1, protected_refs={"r/a:000000000002"}, used_ids={"sha256:r/b1"}) == [
        tagged("r/a", 3),
        tagged("r/a", 1),
    ]
    assert prune.plan(rows, keep=1, protected_refs=set(), used_ids=set(), ours={"r/a:000000000001"}) == [
        tagged("r/a", 1)
    ]
    assert prune.plan(rows, keep=4, protected_refs=set(), used_ids=set()) == []


def test_prune_looks_only_at_content_tags_of_the_stacks_repositories() -> None:
    rows = [tagged("r/a", n) for n in (1, 2)] + [Tagged("r/a", "latest", "sha256:l", "2026-12-01")]
    assert prune.plan(rows, keep=1, protected_refs=set(), used_ids=set()) == [tagged("r/a", 1)]
    offline = config.load("offline", REPO)
    assert "srvthreds/redis-offline" in prune.repositories(offline)
    assert offline.image_ref("redis") not in prune.repositories(offline)


def test_prune_refuses_to_keep_nothing(daemon: Daemon) -> None:
    cfg = config.load("local", REPO)
    with pytest.raises(StackError, match="--keep 0 would remove the newest tag too"):
        prune.prune(cfg, 0)
    assert daemon.calls() == []


def test_prune_removes_what_the_plan_picks(daemon: Daemon, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config.load("local", REPO)
    repo = cfg.image_ref("engine")
    for n in (1, 2):
        ref = f"{repo}:{n:012x}"
        daemon.add_image(ref)
        state.record_built(ref)
    prune.prune(cfg, 1)
    assert daemon.refs() == [f"{repo}:000000000002"]
    out = capsys.readouterr().out
    assert f"removed {repo}:000000000001" in out and "1 old tag(s) removed; kept the newest 1" in out
    assert prune.repositories(cfg) == sorted(
        {cfg.image_ref(n) for n in ["base", "builder", *cfg.built_images()]}
    )
