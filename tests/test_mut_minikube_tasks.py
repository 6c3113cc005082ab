"""tasks/families/minikube.py's task actions and up-to-date checks called directly against the
stateful fake minikube/kubectl (the environments of the repository, state in a scratch
folder), without a whole `doit minikube_up` on a project copy.

Found unguarded by the mutation benchmark (bench/mutation.py minikube_tasks): starting and
the addons, which images are loaded and remembered per cluster, the status table and its
refusals, the operations (logs, down, delete, port_forward) and the family's shape.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from doit.exceptions import TaskFailed

from tasks.config import load as config
from tasks.errors import StackError
from tasks.families import minikube as minikube_tasks
from tasks.model import Config
from tasks.store import images, state
from testing.fakes import docker as fake_docker
from testing.fakes import k8sstate as fs
from testing.fakes.cluster import FakeCluster
from testing.harness import FakeBin
from testing.minikube_env import TEST_ENV, TEST_ENV_YAML
from testing.project import REPO

Task = dict[str, Any]


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The repository's environments plus the image-load test environment, as cwd (the
    sources the configuration names are links to the repository's: only read)."""
    root = tmp_path / "proj"
    shutil.copytree(REPO / "environments", root / "environments")
    for name in ("demo", "docker", "k8s", "templates"):
        (root / name).symlink_to(REPO / name)
    (root / "environments" / f"{TEST_ENV}.yaml").write_text(TEST_ENV_YAML % {"strategy": "image-load"})
    monkeypatch.chdir(root)
    return root


def _family(cfg: Config) -> dict[str, Task]:
    return {
        t["basename"] + (f":{t['name']}" if t.get("name") else ""): t for t in minikube_tasks._family(cfg)
    }


def _act(task: Task, **kw: Any) -> None:
    """Run a task's one python action; a TaskFailed becomes a StackError-like failure."""
    action = task["actions"][0]
    func: Callable[..., Any]
    args: list[Any] = []
    if isinstance(action, tuple):
        func, args = action
    else:
        func = action
    result = func(*args, **kw)
    if isinstance(result, TaskFailed):
        raise StackError(str(result.message))


def _uptodate(task: Task) -> object:
    """What the task's check returns, as is (doit reads None as "no opinion", not "not done")."""
    check = task["uptodate"][0]
    if isinstance(check, tuple):
        return check[0](*check[1])
    return check()


def _cluster(fake_cluster: FakeCluster, profile: str) -> FakeCluster:
    c = FakeCluster(fake_cluster.state_dir, profile=profile)
    c.bin_dir = fake_cluster.bin_dir
    return c


def _disable(c: FakeCluster, addon: str) -> None:
    """The addon was disabled behind the product's back."""
    profile = c.profile  # read before the transaction: it takes the same lock
    with fs.transaction(c.state_dir) as st:
        st["clusters"][profile]["addons"][addon] = False


# --------------------------------------------------------------------------- family


def test_the_family_of_each_strategy(root: Path) -> None:
    docker_env = _family(config.load("minikube", root))
    assert "minikube_load" not in docker_env
    assert docker_env["minikube_apply"]["task_dep"] == [
        "minikube_start",
        "compose_up_dbs",
        "minikube_images",
        *minikube_tasks.render_steps("minikube"),
    ]
    assert docker_env["minikube_up"]["task_dep"] == [
        "minikube_start",
        "minikube_images",
        "minikube_apply",
        "minikube_rollout",
    ]
    assert docker_env["minikube_images:engine"]["task_dep"] == ["minikube_start"]
    load = _family(config.load(TEST_ENV, root))
    assert load["minikube_apply"]["task_dep"][:2] == ["minikube_start", "minikube_load"]
    assert load["minikube_up"]["task_dep"][2] == "minikube_load"
    assert load["minikube_images:engine"]["task_dep"] == []
    assert load["minikube_load"]["file_dep"] == [
        str(images.ref_file(TEST_ENV, n, "minikube_images"))
        for n in config.load(TEST_ENV, root).cluster_images()
    ]
    assert "minikube_images:builder" in load and "minikube_images:engine" in load


def test_a_non_kubernetes_or_cloud_environment_is_refused(root: Path) -> None:
    class _Run:
        def __init__(self, env: str) -> None:
            self.env = env

        def env_for(self, _: str) -> str:
            return self.env

        def config(self, env: str) -> Config:
            return config.load(env, root)

        def params(self, _: str) -> list[dict[str, Any]]:
            return []

    for env, words in (("local", "(runtime: compose)"), ("dev", "(runtime: kubernetes, cloud)")):
        with pytest.raises(
            StackError, match=f"environment '{env}' is not a local Kubernetes environment"
        ) as info:
            minikube_tasks.load(_Run(env))  # type: ignore[arg-type]
        assert words in info.value.message
        tasks = list(minikube_tasks.task_minikube(_Run(env)))  # type: ignore[arg-type]
        assert sorted(t["basename"] for t in tasks) == sorted(minikube_tasks.PUBLIC)
    assert minikube_tasks.load(_Run("minikube")).env == "minikube"  # type: ignore[arg-type]


def test_env_arg_and_published_ports(root: Path) -> None:
    assert minikube_tasks._env_arg(config.load("minikube", root)) == ""
    cfg = config.load(TEST_ENV, root)
    assert minikube_tasks._env_arg(cfg) == f" env={TEST_ENV}"
    published = minikube_tasks._published(cfg)
    assert published == [
        (s.name, p.port, p.publish) for s in cfg.services.values() for p in s.ports if p.publish
    ]
    assert published and all(publish for _, _, publish in published)


def test_nothing_pending(root: Path) -> None:
    from tasks.ops import k8s_deploy as kd

    t = kd.Target.of(config.load(TEST_ENV, root), "mktest")
    assert minikube_tasks.nothing_pending(t)
    t.state.mkdir(parents=True)
    (t.state / "pending.json").write_text("{}")
    assert not minikube_tasks.nothing_pending(t)


# --------------------------------------------------------------------------- start


def test_start_creates_the_cluster_and_addons_once(
    root: Path, fake_cluster: FakeCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config.load(TEST_ENV, root)
    start = _family(cfg)["minikube_start"]
    assert not _uptodate(start)  # no cluster: not done, and no crash
    _act(start)
    out = capsys.readouterr().out
    c = _cluster(fake_cluster, "mktest")
    assert c.running and all(c.addons()[a] for a in cfg.minikube.addons)
    assert f"starting cluster mktest ({cfg.minikube.driver}, {cfg.minikube.cpus} CPUs" in out
    assert all(f"addon {a} enabled" in out for a in cfg.minikube.addons)
    assert _uptodate(start)
    c.clear_calls()
    _act(start)
    assert "cluster mktest is running" in capsys.readouterr().out
    assert c.mutating_calls() == []


def test_start_enables_only_a_missing_addon(root: Path, fake_cluster: FakeCluster) -> None:
    cfg = config.load(TEST_ENV, root)
    start = _family(cfg)["minikube_start"]
    _act(start)
    c = _cluster(fake_cluster, "mktest")
    c.clear_calls()
    _disable(c, cfg.minikube.addons[0])
    assert not _uptodate(start)
    _act(start)
    assert [m["argv"][2:] for m in c.mutating_calls()] == [["addons", "enable", cfg.minikube.addons[0]]]


# --------------------------------------------------------------------------- load


def _record(cfg: Config, tag: str) -> list[str]:
    assert cfg.env is not None
    refs = []
    for name in cfg.cluster_images():
        path = images.ref_file(cfg.env, name, minikube_tasks.IMAGES)
        path.parent.mkdir(parents=True, exist_ok=True)
        ref = f"{cfg.image_ref(name)}:{tag}"
        path.write_text(ref + "\n")
        refs.append(ref)
    return sorted(refs)


def test_load_sends_what_the_cluster_lacks_and_remembers_it_per_cluster(
    root: Path, fake_cluster: FakeCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config.load(TEST_ENV, root)
    load = _family(cfg)["minikube_load"]
    with pytest.raises(StackError, match="cluster mktest is not reachable"):
        _act(load)
    c = _cluster(fake_cluster, "mktest")
    c.create_cluster()
    load = _family(cfg)["minikube_load"]  # a new run: the cluster's facts are asked again
    with pytest.raises(StackError, match="no image recorded for "):
        _act(load)
    refs = _record(cfg, "t1")
    c.add_image(refs[0])
    assert not _uptodate(load)
    _act(load)
    assert f"{len(refs) - 1} image(s) loaded, 1 already in the cluster" in capsys.readouterr().out
    loaded = [m["argv"][-1] for m in c.mutating_calls("minikube")]
    assert loaded == refs[1:]
    record = state.minikube_dir(TEST_ENV) / f"images-{c.uid}.txt"
    assert record.read_text() == "".join(f"{r}\n" for r in refs)
    assert _uptodate(load)
    # A new tag: not current; the record keeps the old refs too.
    newer = _record(cfg, "t2")
    assert not _uptodate(load)
    _act(load)
    assert set(record.read_text().split()) == set(refs) | set(newer)
    # A recreated cluster has another identity: everything is sent again.
    c.recreate_cluster()
    assert _uptodate(load)  # one run asks for the cluster's identity once
    assert not _uptodate(_family(cfg)["minikube_load"])


# --------------------------------------------------------------------------- status and ops


def test_status_of_an_absent_cluster(
    root: Path, fake_cluster: FakeCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    status = _family(config.load(TEST_ENV, root))["minikube_status"]
    with pytest.raises(StackError, match="cluster mktest is absent: nothing is deployed") as info:
        _act(status)
    assert f"run `doit minikube_up env={TEST_ENV}`" in info.value.message
    assert "cluster  mktest  absent" in capsys.readouterr().out


def test_status_names_stale_addons_and_images(
    root: Path, fake_cluster: FakeCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config.load(TEST_ENV, root)
    fam = _family(cfg)
    _act(fam["minikube_start"])
    c = _cluster(fake_cluster, "mktest")
    refs = _record(cfg, "t1")
    c.add_image(refs[0])
    _disable(c, cfg.minikube.addons[0])
    capsys.readouterr()
    with pytest.raises(StackError) as info:
        _act(fam["minikube_status"])
    out = capsys.readouterr().out
    assert f", uid {c.uid}" in out
    assert f"{cfg.minikube.addons[0]}  STALE: disabled" in out or "STALE: disabled" in out
    assert f"{refs[0]} present" in out and "STALE: missing" in out
    # The workloads are checked first (nothing is deployed here), then the stale items.
    assert "are not ok" in info.value.message


def test_table_aligns_columns(capsys: pytest.CaptureFixture[str]) -> None:
    minikube_tasks._table([("a", "bb", "x"), ("ccc", "d", "y")])
    assert capsys.readouterr().out == "  a    bb  x\n  ccc  d   y\n"


def test_logs_down_delete_and_forward(
    root: Path, fake_cluster: FakeCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config.load(TEST_ENV, root)
    fam = _family(cfg)
    _act(fam["minikube_start"])
    c = _cluster(fake_cluster, "mktest")
    with pytest.raises(StackError, match="no service with a published port named 'nope'") as info:
        _act(fam["port_forward"], service="nope")
    assert "publish:" in str(info.value.message)
    with pytest.raises(StackError, match="kubectl port-forward exited with 1") as info:
        _act(fam["port_forward"])  # the first published service, not deployed
    assert f"doit minikube_up env={TEST_ENV}" in info.value.message
    assert "Forwarding http://localhost:" in capsys.readouterr().out
    _act(fam["minikube_logs"], tail=7)
    logs = c.calls("kubectl")[-1]["argv"]
    assert "--tail=7" in logs and f"app.kubernetes.io/part-of={cfg.project}" in logs
    _act(fam["minikube_down"])
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
    _act(fam["minikube_delete"])
    assert "cluster mktest deleted" in capsys.readouterr().out
    assert not c.exists


def test_up_prints_how_to_reach_each_published_service(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config.load(TEST_ENV, root)
    _act(_family(cfg)["minikube_up"])
    out = capsys.readouterr().out
    assert f"Stack {cfg.project} is up on Minikube profile mktest, namespace {cfg.namespace}." in out
    name, port, publish = minikube_tasks._published(cfg)[0]
    assert f"  {name}: run `doit port_forward env={TEST_ENV}`, then open http://localhost:{publish}" in out
    assert f"port-forward svc/{name} {publish}:{port})" in out
    assert f"status: `doit minikube_status env={TEST_ENV}`" in out


def test_a_check_that_cannot_ask_means_not_done(
    root: Path, fakebin: FakeBin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A minikube that fails mid-check: the up-to-date check says "not done" (the action
    then explains), it does not crash doit."""
    fakebin.script(
        "minikube",
        'case "$3" in status) echo \'{"Host": "Running", "APIServer": "Running"}\';;\n'
        "*) echo 'minikube: broken' >&2; exit 3;; esac\n",
    )
    fakebin.activate(monkeypatch)
    assert _uptodate(_family(config.load(TEST_ENV, root))["minikube_start"]) is False


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
    fam = _family(cfg)
    _act(fam["minikube_start"])
    for ref in _record(cfg, "t1"):
        daemon.add_image(ref, host="fake://minikube")
    fam = _family(cfg)
    assert not _uptodate(fam["minikube_apply"])
    _act(fam["minikube_apply"])
    assert not _uptodate(fam["minikube_rollout"])  # pending until seen healthy
    _act(fam["minikube_rollout"])
    assert _uptodate(fam["minikube_rollout"])
    fam = _family(cfg)
    assert _uptodate(fam["minikube_apply"])
    capsys.readouterr()
    _act(fam["minikube_status"])
    out = capsys.readouterr().out
    assert "STALE" not in out and " present" in out and "not built" not in out
    c.delete_namespace(cfg.namespace)
    assert not _uptodate(_family(cfg)["minikube_apply"])


def test_the_operations_always_run(root: Path) -> None:
    fam = _family(config.load(TEST_ENV, root))
    for name in ("minikube_status", "minikube_logs", "minikube_down", "minikube_delete", "port_forward"):
        assert fam[name]["uptodate"] == [False], name
