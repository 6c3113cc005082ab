"""tasks/ops/sync.py: what a set of changed files means (plan), and carrying it out (apply)
against the fake `docker` (Compose) and the stateful fake cluster (Minikube), with its record
in the inner loop's state and its failures."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tasks.config import load
from tasks.errors import StackError
from tasks.model import Config, Minikube, SyncRule
from tasks.ops import sync
from tasks.store import devstate
from testing import configs
from testing.fakes.cluster import FakeCluster
from testing.fakes.docker import FakeDocker
from testing.k8s_overlay import NS, PROFILE, make_kube
from testing.project import REPO

PROJECT = "shop-test"  # the Compose project of configs.config("test", ...)
RULES = (
    SyncRule("app/src", "/srv/app", "container"),
    SyncRule("app/src/static", "/srv/www"),
    SyncRule("app/main.py", "/srv/main.py", "kill -HUP 1"),
)


def make_config(runtime: str = "compose", rules: tuple[SyncRule, ...] = RULES) -> Config:
    cfg = configs.config(
        "test",
        [configs.service("web", sync=rules), configs.service("worker", sync=(SyncRule("app/src", "/w"),))],
        [],
        runtime=runtime,
    )
    return dataclasses.replace(cfg, timeouts={"healthy": 30, "rollout": 30})


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    (root / "app" / "src" / "static").mkdir(parents=True)
    (root / "app" / "src" / "lib.py").write_text("X = 1\n")
    (root / "app" / "src" / "static" / "a.css").write_text("a {}\n")
    (root / "app" / "main.py").write_text("print(1)\n")
    (root / "app" / "Dockerfile").write_text("FROM scratch\n")
    monkeypatch.chdir(root)
    return root


def test_plan_maps_each_file_to_its_most_specific_rule(root: Path) -> None:
    plan = sync.plan(make_config(), [Path("app/src/static/a.css"), root / "app" / "main.py"])
    assert plan is not None
    web = plan.services["web"]
    assert [(c.file, c.target) for c in web.copies] == [
        ("app/src/static/a.css", "/srv/www/a.css"),
        ("app/main.py", "/srv/main.py"),
    ]
    assert web.restarts == ("kill -HUP 1",)
    # The worker syncs all of app/src: the stylesheet goes to it too, with no restart.
    assert [(c.file, c.target) for c in plan.services["worker"].copies] == [
        ("app/src/static/a.css", "/w/static/a.css")
    ]
    assert plan.services["worker"].restarts == ()


def test_plan_of_a_folder_copies_its_files_and_restarts_once(root: Path) -> None:
    plan = sync.plan(make_config(), [Path("app/src"), Path("app/src/lib.py")])
    assert plan is not None
    assert [c.target for c in plan.services["web"].copies] == ["/srv/app/lib.py", "/srv/app/static/a.css"]
    assert plan.services["web"].files == ("app/src/lib.py", "app/src/static/a.css")
    assert plan.services["web"].restarts == ("container",)


def test_plan_is_none_when_a_change_needs_a_build(root: Path, tmp_path: Path) -> None:
    cfg = make_config()
    assert sync.plan(cfg, [Path("app/Dockerfile")]) is None  # outside every rule
    assert sync.plan(cfg, [Path("app/src/lib.py"), Path("app/Dockerfile")]) is None  # one is enough
    assert sync.plan(cfg, [Path("app/src/gone.py")]) is None  # deleted: only a build drops it
    assert sync.plan(cfg, [tmp_path / "elsewhere.py"]) is None  # outside the project
    assert sync.plan(cfg, [Path("app")]) is None  # a folder holding more than the rules
    assert sync.plan(cfg, []) == sync.SyncPlan({})


# --- Compose ------------------------------------------------------------------------------


def containers(daemon: FakeDocker, service: str, *ids: str, image: str = "acme/web:t1") -> None:
    daemon.add_image(image)
    labels = {"com.docker.compose.project": PROJECT, "com.docker.compose.service": service}
    for cid in ids:
        daemon.add_container(cid, image, state="running", labels=labels)


def test_apply_copies_into_every_container_restarts_and_records(
    root: Path, fake_docker_daemon: FakeDocker
) -> None:
    containers(fake_docker_daemon, "web", "web1", "web2")
    containers(fake_docker_daemon, "web", "other", image="acme/other:t1")
    fake_docker_daemon.update_container("other", labels={"com.docker.compose.project": "another"})
    secret = root / "app" / "src" / "lib.py"
    secret.chmod(0o600)  # a checkout's mode: the container's user must still read the copy
    plan = sync.plan(make_config(), [Path("app/src/lib.py")])
    assert plan is not None
    del plan.services["worker"]
    sync.apply(make_config(), plan)
    store = fake_docker_daemon.store()["containers"]
    for cid in ("web1", "web2"):
        # Root's (like the image's code), readable by the container's user.
        assert store[cid]["files"] == {
            "/srv/app/lib.py": {"text": "X = 1\n", "mode": "0o644", "owner": "0:0"}
        }
        assert store[cid]["restarts"] == 1
    assert "files" not in store["other"]
    restarts = [argv for argv in fake_docker_daemon.argvs() if argv[0] == "restart"]
    assert restarts == [["restart", "--time", str(sync.RESTART_GRACE), "web1", "web2"]]
    record = devstate.read("test")["web"]
    assert record.synced and record.files == ("app/src/lib.py",)
    assert record.image == "acme/web:t1"  # the reference it runs, as `compose ps` shows it
    assert "worker" not in devstate.read("test")


def test_all_files_of_a_service_go_in_one_copy_per_container_and_the_steps_are_marked(
    root: Path, fake_docker_daemon: FakeDocker
) -> None:
    containers(fake_docker_daemon, "web", "web1", "web2")
    (root / "app" / "src" / "static" / "b.css").write_text("b {}\n")
    plan = sync.plan(make_config(), [Path("app/src")])
    assert plan is not None and len(plan.services["web"].copies) == 3
    del plan.services["worker"]
    marks: sync.Marks = []
    sync.apply(make_config(), plan, marks=marks)
    files = fake_docker_daemon.store()["containers"]["web1"]["files"]
    assert {path: f["text"] for path, f in files.items()} == {
        "/srv/app/lib.py": "X = 1\n",
        "/srv/app/static/a.css": "a {}\n",
        "/srv/app/static/b.css": "b {}\n",
    }
    argvs = fake_docker_daemon.argvs()
    # One listing (it names the images too), one copy per container, one restart for both.
    assert [a[0] for a in argvs] == ["ps", "cp", "cp", "restart"]
    assert [a[-1] for a in argvs if a[0] == "cp"] == ["web1:/", "web2:/"]
    assert [what for what, _ in marks] == ["found", "copied", "restarted"]
    assert [at for _, at in marks] == sorted(at for _, at in marks)


def test_a_change_for_two_services_lists_the_containers_once_and_restarts_them_in_one_call(
    root: Path, fake_docker_daemon: FakeDocker
) -> None:
    containers(fake_docker_daemon, "web", "web1", "web2")
    containers(fake_docker_daemon, "worker", "worker1", image="acme/worker:t1")
    cfg = configs.config(
        "test",
        [
            configs.service("web", sync=(SyncRule("app/src", "/srv/app", "container"),)),
            configs.service("worker", sync=(SyncRule("app/src", "/w", "container"),)),
        ],
        [],
    )
    cfg = dataclasses.replace(cfg, timeouts={"healthy": 30, "rollout": 30})
    plan = sync.plan(cfg, [Path("app/src/lib.py")])
    assert plan is not None and sorted(plan.services) == ["web", "worker"]
    sync.apply(cfg, plan)
    argvs = fake_docker_daemon.argvs()
    assert [a[0] for a in argvs] == ["ps", "cp", "cp", "cp", "restart"]
    assert argvs[-1] == ["restart", "--time", "0", "web1", "web2", "worker1"]
    store = fake_docker_daemon.store()["containers"]
    assert store["worker1"]["files"]["/w/lib.py"]["text"] == "X = 1\n"
    assert {c: store[c]["restarts"] for c in ("web1", "web2", "worker1")} == {
        "web1": 1,
        "web2": 1,
        "worker1": 1,
    }
    records = devstate.read("test")
    assert (records["web"].image, records["worker"].image) == ("acme/web:t1", "acme/worker:t1")


def test_apply_runs_a_restart_command_in_each_container_and_keeps_executable_files_so(
    root: Path, fake_docker_daemon: FakeDocker
) -> None:
    containers(fake_docker_daemon, "web", "web1", "web2")
    (root / "app" / "main.py").chmod(0o700)
    plan = sync.plan(make_config(), [Path("app/main.py")])
    assert plan is not None and list(plan.services) == ["web"]
    sync.apply(make_config(), plan)
    store = fake_docker_daemon.store()["containers"]
    assert store["web1"]["files"]["/srv/main.py"]["mode"] == "0o755"
    assert [store[c]["execs"] for c in ("web1", "web2")] == [[["sh", "-c", "kill -HUP 1"]]] * 2
    assert "restarts" not in store["web1"]


def test_sync_leaves_what_the_content_tag_reads_untouched(root: Path, fake_docker_daemon: FakeDocker) -> None:
    containers(fake_docker_daemon, "web", "web1")
    containers(fake_docker_daemon, "worker", "worker1")

    def tree() -> dict[str, tuple[int, bytes]]:
        return {
            str(p.relative_to(root)): (p.stat().st_mode, p.read_bytes())
            for p in sorted(root.rglob("*"))
            if p.is_file() and ".build" not in p.parts
        }

    (root / "app" / "src" / "lib.py").write_text("X = 2\n")
    before = tree()
    plan = sync.plan(make_config(), [Path("app/src/lib.py")])
    assert plan is not None
    sync.apply(make_config(), plan)
    assert tree() == before  # the build context (and the rest of the project) as the edit left it
    assert fake_docker_daemon.store()["containers"]["worker1"]["files"]["/w/lib.py"]["text"] == "X = 2\n"
    assert not [argv for argv in fake_docker_daemon.argvs() if argv[0] in ("build", "tag")]


def test_apply_fails_without_a_running_container_and_records_nothing(
    root: Path, fake_docker_daemon: FakeDocker
) -> None:
    containers(fake_docker_daemon, "web", "web1")
    fake_docker_daemon.update_container("web1", state="exited")
    plan = sync.plan(make_config(), [Path("app/main.py")])
    assert plan is not None
    with pytest.raises(StackError) as info:
        sync.apply(make_config(), plan)
    assert info.value.message == f"live sync of 'web' found no running container in Compose project {PROJECT}"
    assert info.value.fix == "start it: `doit compose_up env=test`"
    assert devstate.read("test") == {}


def test_apply_fails_in_one_sentence_when_a_copy_fails(root: Path, fake_docker_daemon: FakeDocker) -> None:
    containers(fake_docker_daemon, "web", "web1")
    fake_docker_daemon.update_container("web1", read_only=True)
    plan = sync.plan(make_config(), [Path("app/main.py")])
    assert plan is not None
    with pytest.raises(StackError) as info:
        sync.apply(make_config(), plan)
    assert info.value.message == (
        "live sync of 'web' failed copying app/main.py into container web1: exit 1 "
        "(Error response from daemon: container rootfs is marked read-only)"
    )
    assert info.value.fix == (
        "fix the cause and save again, or rebuild it: `doit compose_up env=test`; "
        "nothing was recorded as synced"
    )
    assert devstate.read("test") == {}


def test_apply_fails_when_the_restart_command_fails(root: Path, fake_docker_daemon: FakeDocker) -> None:
    containers(fake_docker_daemon, "web", "web1")
    fake_docker_daemon.update_container("web1", exec_fails=["sh -c kill -HUP 1"])
    devstate.update("test", "web", image="acme/web:t1")
    plan = sync.plan(make_config(), [Path("app/main.py")])
    assert plan is not None
    with pytest.raises(StackError) as info:
        sync.apply(make_config(), plan)
    assert info.value.message == "live sync of 'web' failed running `kill -HUP 1` in container web1: exit 1"
    assert not devstate.read("test")["web"].synced


def test_apply_refuses_a_cloud_environment(root: Path) -> None:
    cfg = dataclasses.replace(make_config("kubernetes"), cloud=configs.cloud())
    with pytest.raises(StackError) as info:
        sync.apply(cfg, sync.SyncPlan({"web": sync.ServiceSync("web", ())}))
    assert info.value.message == "live sync does not run on cloud environment 'test'"


# --- Minikube (the stateful fake cluster) --------------------------------------------------


def minikube_config() -> Config:
    cfg = make_config("kubernetes", (SyncRule("app/src", "/srv/app", "kill -HUP 1"),))
    return dataclasses.replace(
        cfg, namespace=NS, minikube=Minikube(PROFILE, "docker", 2, 4096, "20g", (), "docker-env")
    )


def test_apply_copies_into_every_pod_of_the_deployment(
    fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kube = make_kube(fake_cluster, tmp_path, monkeypatch)
    kube.applied()
    (kube.root / "app" / "src").mkdir(parents=True)
    (kube.root / "app" / "src" / "lib.py").write_text("X = 3\n")
    kube.cluster.clear_calls()
    plan = sync.plan(minikube_config(), [Path("app/src/lib.py")])
    assert plan is not None
    del plan.services["worker"]
    sync.apply(minikube_config(), plan)
    files = kube.cluster.pod_files(NS)
    pods = sorted(p for p in files if p.startswith("web-"))
    assert len(pods) == 2  # both replicas; the Job's pod (init) is not the Deployment's
    assert all(files[p] == {"/srv/app/lib.py": {"text": "X = 3\n", "mode": "0o644"}} for p in pods)
    assert kube.cluster.pod_execs(NS) == {p: [["sh", "-c", "kill -HUP 1"]] for p in pods}
    argvs = [c["argv"] for c in kube.cluster.mutating_calls("kubectl")]
    assert [a[4] for a in argvs] == ["cp", "cp", "exec", "exec"]
    assert {tuple(a[6:]) for a in argvs[:2]} == {(f"{p}:/srv/app/lib.py", "-c", "web") for p in pods}
    record = devstate.read("test")["web"]
    assert record.synced and record.image == "acme/web:t1"


def test_minikube_failures_record_nothing(
    fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kube = make_kube(fake_cluster, tmp_path, monkeypatch)
    (kube.root / "app" / "src").mkdir(parents=True)
    (kube.root / "app" / "src" / "lib.py").write_text("X = 3\n")
    plan = sync.plan(minikube_config(), [Path("app/src/lib.py")])
    assert plan is not None
    del plan.services["worker"]
    with pytest.raises(StackError) as info:  # nothing deployed yet
        sync.apply(minikube_config(), plan)
    assert info.value.message == (
        "live sync of 'web' found no running pod of Deployment web "
        f"(Minikube profile {PROFILE}, namespace {NS})"
    )
    kube.applied()
    kube.cluster.inject_exec_failure("sh -c kill -HUP 1")
    with pytest.raises(StackError) as info:
        sync.apply(minikube_config(), plan)
    assert info.value.message.startswith("live sync of 'web' failed running `kill -HUP 1` in pod web-")
    assert info.value.message.endswith(": exit 1 (command terminated with exit code 1)")
    assert info.value.fix is not None and "`doit minikube_up env=test`" in info.value.fix
    assert devstate.read("test") == {}


def test_the_demos_rules_send_a_module_to_its_service_and_shared_code_to_all() -> None:
    """environments/offline.yaml: targets where demo/docker/Dockerfile.service puts the code."""
    cfg = load.load("offline", REPO)
    demo = REPO / "demo" / "srvthreds_demo"
    plan = sync.plan(cfg, [demo / "engine.py"], root=REPO)
    assert plan is not None and list(plan.services) == ["engine"]
    assert [c.target for c in plan.services["engine"].copies] == ["/app/srvthreds_demo/engine.py"]
    # The demo's process reloads on SIGHUP (demo/srvthreds_demo/serve.py): no container restart.
    assert plan.services["engine"].restarts == ("kill -HUP 1",)
    shared = sync.plan(cfg, [demo / "common" / "web.py"], root=REPO)
    assert shared is not None and sorted(shared.services) == ["engine", "session-agent"]
    assert {c.target for s in shared.services.values() for c in s.copies} == {
        "/app/srvthreds_demo/common/web.py"
    }
    assert sync.plan(cfg, [REPO / "demo" / "docker" / "Dockerfile.service"], root=REPO) is None
