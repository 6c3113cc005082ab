"""tasks/ops/minikube.py against the stateful fake minikube/kubectl (the environments of the
repository, state in a scratch folder): starting and the addons, which images are loaded and
remembered per cluster, apply and rollout, the status table and its refusals, and the
operations (logs, down, delete, port_forward, how to reach the stack).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tasks.config import load as config
from tasks.errors import StackError
from tasks.model import Config
from tasks.ops import k8s_deploy as kd
from tasks.ops import minikube as ops
from tasks.ops.deploy_record import Pending
from tasks.ops.targets import registry, rollout
from tasks.store import images, state
from testing.fakes import docker as fake_docker
from testing.fakes import k8sstate as fs
from testing.fakes.cluster import FakeCluster
from testing.minikube_env import TEST_ENV, TEST_ENV_YAML
from testing.project import REPO


def _status(cfg: Config) -> None:
    ops.status(cfg, ops.live(cfg), registry.for_config(cfg))


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The repository's environments plus the image-load test environment, as cwd (the
    sources the configuration names are links to the repository's: only read)."""
    root = tmp_path / "proj"
    shutil.copytree(REPO / "environments", root / "environments")
    for name in ("k8s", "templates"):
        (root / name).symlink_to(REPO / name)
    for name in ("demo", "docker"):  # build inputs: inside the project, never links out of it
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "environments" / f"{TEST_ENV}.yaml").write_text(TEST_ENV_YAML % {"strategy": "image-load"})
    monkeypatch.chdir(root)
    return root


def _cluster(fake_cluster: FakeCluster, profile: str) -> FakeCluster:
    c = FakeCluster(fake_cluster.state_dir, profile=profile)
    c.bin_dir = fake_cluster.bin_dir
    return c


def _disable(c: FakeCluster, addon: str) -> None:
    """The addon was disabled behind the product's back."""
    profile = c.profile  # read before the transaction: it takes the same lock
    with fs.transaction(c.state_dir) as st:
        st["clusters"][profile]["addons"][addon] = False


def _record(cfg: Config, tag: str) -> list[str]:
    assert cfg.env is not None
    refs = []
    for name in cfg.cluster_images():
        path = images.ref_file(cfg.env, name, ops.IMAGES)
        path.parent.mkdir(parents=True, exist_ok=True)
        ref = f"{cfg.image_ref(name)}:{tag}"
        path.write_text(ref + "\n")
        refs.append(ref)
    return sorted(refs)


def test_env_arg_and_published_ports(root: Path) -> None:
    assert ops.env_arg(config.load("minikube", root)) == ""
    cfg = config.load(TEST_ENV, root)
    assert ops.env_arg(cfg) == f" env={TEST_ENV}"
    published = ops.published(cfg)
    assert published == [
        (s.name, p.port, p.publish) for s in cfg.services.values() for p in s.ports if p.publish
    ]
    assert published and all(publish for _, _, publish in published)


def test_nothing_pending(root: Path) -> None:
    t = kd.Target.of(config.load(TEST_ENV, root), "mktest")
    assert ops.nothing_pending(t)
    t.record.set_pending(Pending())
    assert not ops.nothing_pending(t)


def test_start_creates_the_cluster_and_addons_once(
    root: Path, fake_cluster: FakeCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config.load(TEST_ENV, root)
    assert not ops.started(cfg.minikube)  # no cluster: not done, and no crash
    ops.start(cfg.minikube)
    out = capsys.readouterr().out
    c = _cluster(fake_cluster, "mktest")
    assert c.running and all(c.addons()[a] for a in cfg.minikube.addons)
    assert f"starting cluster mktest ({cfg.minikube.driver}, {cfg.minikube.cpus} CPUs" in out
    assert all(f"addon {a} enabled" in out for a in cfg.minikube.addons)
    assert ops.started(cfg.minikube)
    c.clear_calls()
    ops.start(cfg.minikube)
    assert "cluster mktest is running" in capsys.readouterr().out
    assert c.mutating_calls() == []


def test_start_enables_only_a_missing_addon(root: Path, fake_cluster: FakeCluster) -> None:
    cfg = config.load(TEST_ENV, root)
    ops.start(cfg.minikube)
    c = _cluster(fake_cluster, "mktest")
    c.clear_calls()
    _disable(c, cfg.minikube.addons[0])
    assert not ops.started(cfg.minikube)
    ops.start(cfg.minikube)
    assert [m["argv"][2:] for m in c.mutating_calls()] == [["addons", "enable", cfg.minikube.addons[0]]]


def test_load_sends_what_the_cluster_lacks_and_remembers_it_per_cluster(
    root: Path, fake_cluster: FakeCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config.load(TEST_ENV, root)
    with pytest.raises(StackError, match="cluster mktest is not reachable"):
        ops.load_images(cfg, ops.live(cfg))
    c = _cluster(fake_cluster, "mktest")
    c.create_cluster()
    live = ops.live(cfg)  # a new run: the cluster's facts are asked again
    with pytest.raises(StackError, match="no image recorded for "):
        ops.load_images(cfg, live)
    refs = _record(cfg, "t1")
    c.add_image(refs[0])
    assert not ops.images_loaded(cfg, live)
    ops.load_images(cfg, live)
    assert f"{len(refs) - 1} image(s) loaded, 1 already in the cluster" in capsys.readouterr().out
    loaded = [m["argv"][-1] for m in c.mutating_calls("minikube")]
    assert loaded == refs[1:]
    record = state.minikube_dir(TEST_ENV) / f"images-{c.uid}.txt"
    assert record.read_text() == "".join(f"{r}\n" for r in refs)
    assert ops.images_loaded(cfg, live)
    # A new tag: not current; the record keeps the old refs too.
    newer = _record(cfg, "t2")
    assert not ops.images_loaded(cfg, live)
    ops.load_images(cfg, live)
    assert set(record.read_text().split()) == set(refs) | set(newer)
    # A recreated cluster has another identity: everything is sent again.
    c.recreate_cluster()
    assert ops.images_loaded(cfg, live)  # one run asks for the cluster's identity once
    assert not ops.images_loaded(cfg, ops.live(cfg))


def test_status_of_an_absent_cluster(
    root: Path, fake_cluster: FakeCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(StackError, match="cluster mktest is absent: nothing is deployed") as info:
        _status(config.load(TEST_ENV, root))
    assert info.value.fix == f"run `doit minikube_up env={TEST_ENV}`"
    assert "cluster  mktest  absent" in capsys.readouterr().out


def test_status_names_stale_addons_and_images(
    root: Path, fake_cluster: FakeCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config.load(TEST_ENV, root)
    ops.start(cfg.minikube)
    c = _cluster(fake_cluster, "mktest")
    refs = _record(cfg, "t1")
    c.add_image(refs[0])
    _disable(c, cfg.minikube.addons[0])
    capsys.readouterr()
    with pytest.raises(StackError) as info:
        _status(cfg)
    out = capsys.readouterr().out
    assert f", uid {c.uid}" in out
    assert f"{cfg.minikube.addons[0]}  STALE: disabled" in out or "STALE: disabled" in out
    assert f"{refs[0]} present" in out and "STALE: missing" in out
    # The workloads are checked first (nothing is deployed here), then the stale items.
    assert "are not ok" in info.value.message


def test_table_aligns_columns() -> None:
    assert ops.table([("a", "bb", "x"), ("ccc", "d", "y")]) == "  a    bb  x\n  ccc  d   y"


def test_logs_of_one_service_are_asked_by_its_label_and_filtered(
    root: Path, fake_cluster: FakeCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config.load(TEST_ENV, root)
    ops.start(cfg.minikube)
    c = _cluster(fake_cluster, "mktest")
    capsys.readouterr()
    ops.logs(cfg, service="engine", level="error", id="c-1")
    argv = c.calls("kubectl")[-1]["argv"]
    assert f"app.kubernetes.io/part-of={cfg.project},app.kubernetes.io/name=engine" in argv
    captured = capsys.readouterr()
    assert captured.out == "" and "no log line matched" in captured.err
    # Only the last `tail` lines were read: the note says so, and how to read more.
    assert "no log line matched in the last 50 lines of each pod (tail=<n> reads more)" in captured.err
    ops.logs(cfg, tail=500, level="error")
    assert "--tail=500" in c.calls("kubectl")[-1]["argv"]
    assert "in the last 500 lines of each pod" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"service": "nope"}, "service=nope names nothing that logs in environment " + TEST_ENV),
        ({"level": "loud"}, "level=loud is not a log level: use one of debug, info, warn, error"),
    ],
)
def test_bad_log_filters_are_refused_before_kubectl_runs(
    root: Path, fake_cluster: FakeCluster, option: dict[str, str], message: str
) -> None:
    cfg = config.load(TEST_ENV, root)
    ops.start(cfg.minikube)
    c = _cluster(fake_cluster, "mktest")
    before = len(c.calls("kubectl"))
    with pytest.raises(StackError, match=message) as info:
        ops.logs(cfg, service=option.get("service", ""), level=option.get("level", ""))
    assert "engine" in str(info.value) or "level" in option
    assert len(c.calls("kubectl")) == before


def test_logs_down_delete_and_forward(
    root: Path, fake_cluster: FakeCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config.load(TEST_ENV, root)
    ops.start(cfg.minikube)
    c = _cluster(fake_cluster, "mktest")
    with pytest.raises(StackError, match="no service with a published port named 'nope'") as info:
        ops.forward(cfg, service="nope")
    assert "publish:" in str(info.value)
    with pytest.raises(StackError, match="kubectl port-forward exited with 1") as info:
        ops.forward(cfg)  # the first published service, not deployed
    assert f"doit minikube_up env={TEST_ENV}" in str(info.value)
    assert "Forwarding http://localhost:" in capsys.readouterr().out
    ops.logs(cfg, tail=7)
    logs = c.calls("kubectl")[-1]["argv"]
    assert "--tail=7" in logs and f"app.kubernetes.io/part-of={cfg.project}" in logs
    ops.down(cfg)
    assert c.calls("kubectl")[-1]["argv"] == [
        "--context",
        "mktest",
        "delete",
        "namespace",
        cfg.namespace,
        "--ignore-not-found",
    ]
    assert "(the cluster keeps running" in capsys.readouterr().out
    assert c.running
    ops.delete(cfg)
    assert "cluster mktest deleted" in capsys.readouterr().out
    assert not c.exists


def test_up_prints_how_to_reach_each_published_service(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config.load(TEST_ENV, root)
    ops.reach(cfg)
    out = capsys.readouterr().out
    assert f"Stack {cfg.project} is up on Minikube profile mktest, namespace {cfg.namespace}." in out
    name, port, publish = ops.published(cfg)[0]
    assert f"  {name}: run `doit port_forward env={TEST_ENV}`, then open http://localhost:{publish}" in out
    assert f"port-forward svc/{name} {publish}:{port})" in out
    assert f"status: `doit minikube_status env={TEST_ENV}`" in out


def test_apply_rollout_and_status_of_a_healthy_stack(
    root: Path,
    fake_cluster: FakeCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The default environment (docker-env): apply, roll out, then every check says done and
    the status is all ok; a deleted namespace makes the apply not done again."""
    assert fake_cluster.bin_dir is not None
    daemon = fake_docker.install(fake_cluster.bin_dir, tmp_path / "fake-docker")
    monkeypatch.setenv("FAKE_DOCKER_HOST", "fake://minikube")  # Minikube's daemon
    cfg = config.load("minikube", root)
    c = _cluster(fake_cluster, cfg.minikube.profile)
    ops.start(cfg.minikube)
    for ref in _record(cfg, "t1"):
        daemon.add_image(ref, host="fake://minikube")
    live, target = ops.live(cfg), registry.for_config(cfg)
    assert not ops.applied(live, target)
    ops.apply(live, target)
    assert not ops.nothing_pending(live.target)  # pending until seen healthy
    rollout.finish(target)
    assert ops.nothing_pending(live.target)
    assert ops.applied(ops.live(cfg), target)
    capsys.readouterr()
    _status(cfg)
    out = capsys.readouterr().out
    assert "STALE" not in out and " present" in out and "not built" not in out
    c.delete_namespace(cfg.namespace)
    assert not ops.applied(ops.live(cfg), target)


def test_secret_values_are_the_env_files_and_never_generated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = config.load("minikube", REPO)
    assert cfg.secrets, "the demo's minikube environment has secrets"
    assert ops.secret_values(cfg) == []  # no .env: nothing to mask, and nothing written
    assert not (tmp_path / ".build").exists()
    env_file = tmp_path / "compose" / "minikube" / ".env"
    env_file.parent.mkdir(parents=True)
    env_file.write_text("".join(f"{name}=value-of-{name}\n" for name in cfg.secrets))
    env_file.chmod(0o600)
    assert sorted(ops.secret_values(cfg)) == sorted(f"value-of-{name}" for name in cfg.secrets)
