"""Contract tests for `doit minikube_up`: the whole doit pipeline, in-process, on a project
copy, against the stateful fake minikube/kubectl and the fake docker (testing/fakes). The env
`mktest` has no host databases (compose_up_dbs is not involved) and uses the image-load
strategy, so every image transfer is observable; jobs re-run exactly when their inputs change,
an environment edit reaches the cluster without a manual render."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing import harness
from testing.composebox import host_ports
from testing.fakes import compose as fake_compose
from testing.fakes import docker as fake_docker
from testing.fakes import k8sstate as fs
from testing.fakes.cluster import FakeCluster
from testing.minikube_stack import DEPLOYMENTS, NS, Stack, make_stack
from testing.project import run_doit


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_minikube_up_refuses_a_readable_env_and_writes_private_state(
    project: Path, fake_cluster: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from testing.fakes import docker as fake_docker
    from testing.minikube_env import write_test_env

    env = write_test_env(project)
    fake_docker.install(fake_cluster.bin_dir, tmp_path / "fake-docker")  # type: ignore[attr-defined]
    monkeypatch.setenv("FAKE_DOCKER_HOST", "fake://minikube")
    dotenv = project / "compose" / env / ".env"
    dotenv.parent.mkdir(parents=True, exist_ok=True)
    dotenv.write_text("OTHER=1\n")
    dotenv.chmod(0o644)
    refused = run_doit(project, "minikube_up", f"env={env}")
    assert refused.code != 0 and f"chmod 600 compose/{env}/.env" in refused.out
    dotenv.unlink()
    result = run_doit(project, "minikube_up", f"env={env}")
    assert result.code == 0, result.out
    state = project / ".build" / env / "deploy"
    assert _mode(state / "secrets.env") == 0o600 and _mode(state / ".fingerprint-key") == 0o600


@pytest.fixture
def stack(
    project: Path, fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Stack]:
    yield make_stack(project, fake_cluster, tmp_path, monkeypatch, "image-load")


@pytest.fixture
def up(stack: Stack) -> Stack:
    """A stack brought up once, with the call log cleared."""
    first = stack.up()
    assert first.code == 0, first.out
    stack.cluster.clear_calls()
    return stack


def _tag(cluster: FakeCluster, deployment: str) -> str:
    obj = cluster.get("Deployment", deployment, NS)
    assert obj is not None
    return str(obj["spec"]["template"]["spec"]["containers"][0]["image"])


def test_first_run_does_everything_in_order(stack: Stack) -> None:
    result = stack.up()
    assert result.code == 0, result.out
    ran = result.executed()
    order = [
        "minikube_start",
        "minikube_images:engine",
        "minikube_load",
        "minikube_apply",
        "minikube_rollout",
        "minikube_up",
    ]
    assert [t for t in ran if t in order] == order
    kinds = [(tool, argv[2]) for tool, argv in stack.mutations()]
    assert kinds[0] == ("minikube", "start")
    first_apply = next(i for i, (tool, _) in enumerate(kinds) if tool == "kubectl")
    assert all(tool == "minikube" for tool, _ in kinds[:first_apply])  # cluster + images before apply
    assert len(stack.loads()) == 4  # 3 deployments + the bootstrap job
    c = stack.cluster
    assert set(c.addons()) >= {"ingress", "metrics-server", "dashboard"} and all(
        c.addons()[a] for a in ("ingress", "metrics-server", "dashboard")
    )
    for name in DEPLOYMENTS:
        ref = (stack.project / f".build/mktest/minikube_images/{name}.ref").read_text().strip()
        assert _tag(c, name) == ref  # pinned to the content tag, not :latest
        assert c.revision(name, NS) == 1
    ns = c.get("Namespace", NS, None)
    assert ns is not None and "stackbuild.dev/applied-hash" in ns["metadata"]["annotations"]
    # The hash is on the Namespace only: pod templates carry no per-apply annotation.
    assert "stackbuild.dev/applied-hash" not in str(c.get("Deployment", "engine", NS))
    secret = c.get("Secret", "srvthreds-secrets", NS)
    assert secret is not None and set(secret["stringData"]) == {"RABBITMQ_PASSWORD"}
    assert c.get("Job", "bootstrap", NS) is not None
    assert "port-forward svc/session-agent 3000:3000" in result.out
    # The secret value never lands in a file kubectl reads from the deploy folder.
    value = secret["stringData"]["RABBITMQ_PASSWORD"]
    deploy = stack.project / ".build/mktest/deploy"
    assert not any(value in p.read_text() for p in deploy.rglob("*.yaml"))


def test_second_run_only_reads(up: Stack) -> None:
    again = up.up()
    assert again.code == 0, again.out
    assert up.cluster.mutating_calls() == []
    assert not any(c["argv"][2:3] == ["start"] for c in up.cluster.calls("minikube"))
    assert again.executed() == ["minikube_up"]
    assert len(up.cluster.calls()) <= 5  # status, addons, kube-system uid, namespace


def test_one_service_changed_means_one_image_and_one_rollout(up: Stack) -> None:
    before = up.docker.builds()
    module = up.project / "demo/srvthreds_demo/engine.py"
    module.write_text(module.read_text() + "\n# changed\n")
    result = up.up()
    assert result.code == 0, result.out
    assert len(up.loads()) == 1 and "srvthreds/engine:" in up.loads()[0]
    assert up.cluster.revision("engine", NS) == 2
    assert up.cluster.revision("session-agent", NS) == 1
    assert up.cluster.revision("persistence-agent", NS) == 1
    # Waiting is reading: nothing was undone, and only engine got a new revision.
    assert not any("rollout" in c["argv"] for c in up.cluster.mutating_calls("kubectl"))
    # Every service build re-ran (the builder changed), but only engine's content did.
    assert "engine" in up.docker.builds()[len(before) :]
    # The bootstrap job's image did not change: it is not re-run.
    assert not any("job" in c["argv"] for c in up.cluster.mutating_calls("kubectl"))


def test_deleted_namespace_is_redone(up: Stack) -> None:
    up.cluster.delete_namespace(NS)
    result = up.up()
    assert result.code == 0, result.out
    assert "minikube_apply" in result.executed() and "job/bootstrap started" in result.out
    assert up.loads() == [] and not any(
        argv[2] == "start" for tool, argv in up.mutations() if tool == "minikube"
    )
    assert up.cluster.get("Deployment", "engine", NS) is not None
    assert up.cluster.get("Secret", "srvthreds-secrets", NS) is not None


def test_recreated_cluster_gets_images_again(up: Stack) -> None:
    old = up.cluster.uid
    up.cluster.recreate_cluster()
    assert up.cluster.uid != old
    result = up.up()
    assert result.code == 0, result.out
    assert len(up.loads()) == 4
    assert up.cluster.get("Job", "bootstrap", NS) is not None
    up.cluster.clear_calls()
    assert up.up().code == 0 and up.cluster.mutating_calls() == []


def test_rollout_failure_rolls_back_and_explains(up: Stack) -> None:
    module = up.project / "demo/srvthreds_demo/engine.py"
    module.write_text(module.read_text() + "\n# broken release\n")
    up.cluster.inject_rollout_failure("engine")
    result = up.up()
    assert result.code != 0
    assert any(argv[-2:] == ["undo", "deployment/engine"] for _, argv in up.mutations())
    assert "CrashLoopBackOff" in result.out
    assert "cannot connect to rabbitmq" in result.out  # the pod's last log lines
    assert "BackOff" in result.out  # its events
    assert "Traceback" not in result.out
    # Not recorded as done: the next run tries again.
    up.cluster.clear_rollout_failure("engine")
    up.cluster.clear_calls()
    fixed = up.up()
    assert fixed.code == 0, fixed.out
    assert "minikube_apply" in fixed.executed()
    assert up.cluster.revision("engine", NS) >= 3


def test_job_failure_shows_logs(stack: Stack) -> None:
    stack.cluster.inject_job_failure("bootstrap")
    result = stack.up()
    assert result.code != 0
    assert "job/bootstrap: BackoffLimitExceeded" in result.out and "job failed" in result.out
    stack.cluster.clear_job_failure("bootstrap")
    assert stack.up().code == 0


def test_docker_env_builds_into_minikube_daemon(
    project: Path, fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = make_stack(project, fake_cluster, tmp_path, monkeypatch, "docker-env")
    result = s.up()
    assert result.code == 0, result.out
    assert s.loads() == []  # nothing is sent: the images were built where the cluster runs them
    stores = list(s.docker.state_dir.glob("daemon-*.json"))
    assert len(stores) == 1  # one daemon: Minikube's (DOCKER_HOST from `minikube docker-env`)
    assert {c["docker_host"] for c in s.docker.calls() if c["argv"][0] == "build"} == {"fake://minikube"}
    s.cluster.clear_calls()
    built = len(s.docker.mutating_calls())
    assert s.up().code == 0 and s.cluster.mutating_calls() == []
    assert len(s.docker.mutating_calls()) == built  # nothing rebuilt or retagged either


def test_status_logs_down_delete(up: Stack) -> None:
    status = up.run("minikube_status")
    assert status.code == 0, status.out
    assert "STALE" not in status.out
    for name in DEPLOYMENTS:
        assert re.search(rf"deployment/{name} +1 +1 +srvthreds/{name}:\S+ +yes +ok", status.out), status.out
    logs = up.run("minikube_logs")
    assert logs.code == 0 and "[pod/engine-" in logs.out
    assert up.cluster.mutating_calls() == []
    assert up.run("minikube_down").code == 0
    assert NS not in up.cluster.namespaces()
    gone = up.run("minikube_status")
    assert gone.code != 0 and "stale (not deployed)" in gone.out
    assert up.run("minikube_delete").code == 0
    assert not up.cluster.exists


def test_non_kubernetes_env_is_refused(project: Path) -> None:
    result = run_doit(project, "minikube_up", "env=local")
    assert result.code != 0
    assert "not a local Kubernetes environment" in result.out and "Traceback" not in result.out


def test_missing_minikube_gives_install_hint(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    assert stack.cluster.bin_dir is not None
    (stack.cluster.bin_dir / "minikube").unlink()
    monkeypatch.setenv(
        "PATH",
        os.pathsep.join(
            p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "minikube").exists()
        ),
    )
    result = stack.up()
    assert result.code != 0
    assert "`minikube` is not installed" in result.out and "minikube.sigs.k8s.io" in result.out


def test_every_public_task_has_a_doc(project: Path) -> None:
    listed = run_doit(project, command="list")
    for name in (
        "minikube_up",
        "minikube_status",
        "minikube_logs",
        "minikube_down",
        "minikube_delete",
        "k8s_minikube",
        "port_forward",
        "deploy",
    ):
        line = next((ln for ln in listed.out.splitlines() if ln.split() and ln.split()[0] == name), "")
        assert len(line.split()) > 1, f"{name} has no doc: {listed.out}"


def _job_uid(cluster: FakeCluster, name: str) -> str:
    state = fs.read_state(cluster.state_dir)
    record = state["clusters"][cluster.profile]["objects"][fs.obj_key("Job", NS, name)]
    return str(record["uid"])


def test_a_job_whose_config_changed_runs_again(stack: Stack) -> None:
    assert stack.up().code == 0
    first = _job_uid(stack.cluster, "bootstrap")
    env_yaml = stack.project / f"environments/{stack.env}.yaml"
    env_yaml.write_text(env_yaml.read_text().replace("LOG_LEVEL: DEBUG", "LOG_LEVEL: INFO"))
    result = stack.up()
    assert result.code == 0, result.out
    assert "job/bootstrap started" in result.out
    assert _job_uid(stack.cluster, "bootstrap") != first  # a new Job: it really ran again


def test_a_job_whose_image_changed_is_replaced(stack: Stack) -> None:
    assert stack.up().code == 0
    module = stack.project / "demo/srvthreds_demo/bootstrap.py"
    module.write_text(module.read_text() + "\n# new bootstrap\n")
    result = stack.up()
    assert result.code == 0, result.out  # a Job's template is immutable: applied over, it fails
    ref = (stack.project / f".build/{stack.env}/minikube_images/bootstrap.ref").read_text().strip()
    job = stack.cluster.get("Job", "bootstrap", NS)
    assert job is not None and job["spec"]["template"]["spec"]["containers"][0]["image"] == ref


def test_an_environment_edit_reaches_the_cluster_without_a_manual_render(stack: Stack) -> None:
    assert stack.up().code == 0
    env_yaml = stack.project / f"environments/{stack.env}.yaml"
    env_yaml.write_text(env_yaml.read_text().replace("LOG_LEVEL: DEBUG", "LOG_LEVEL: WARNING"))
    result = stack.up()
    assert result.code == 0, result.out
    config = stack.cluster.get("ConfigMap", "srvthreds-config", NS)
    assert config is not None and config["data"]["LOG_LEVEL"] == "WARNING"


def test_a_new_environment_is_rendered_by_minikube_up_itself(
    project: Path, fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An environment file written a moment ago and never rendered: minikube_up renders its
    overlay before applying it (an edit of an existing one also reaches the cluster through
    the overlay files, which are the render task's targets)."""
    from testing.minikube_env import TEST_ENV_YAML

    s = make_stack(project, fake_cluster, tmp_path, monkeypatch, "image-load")
    (project / "environments/mkfresh.yaml").write_text(
        (TEST_ENV_YAML % {"strategy": "image-load"})
        .replace("profile: mktest", "profile: mkfresh")
        .replace("LOG_LEVEL: DEBUG", "LOG_LEVEL: ERROR")
    )
    assert not (project / "k8s/overlays/mkfresh").exists()
    result = run_doit(project, "minikube_up", "env=mkfresh")
    assert result.code == 0, result.out
    assert (project / "k8s/overlays/mkfresh/kustomization.yaml").exists()
    fresh = FakeCluster(s.cluster.state_dir, profile="mkfresh")
    config = fresh.get("ConfigMap", "srvthreds-config", NS)
    assert config is not None and config["data"]["LOG_LEVEL"] == "ERROR"


def test_minikube_up_refuses_a_cloud_environment(project: Path, fake_cluster: FakeCluster) -> None:
    result = run_doit(project, "minikube_up", "env=prod")
    assert result.code != 0, result.out
    assert "environment 'prod' is not a local Kubernetes environment" in result.out
    assert "doit deploy:<env>" in result.out and "Traceback" not in result.out
    assert fake_cluster.calls() == []  # no cluster was started or touched


def test_docker_env_builds_in_minikubes_daemon_not_the_hosts(
    project: Path, fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    s = make_stack(project, fake_cluster, tmp_path, monkeypatch, "docker-env")
    result = s.up()
    assert result.code == 0, result.out
    # The fake docker keeps one image store per DOCKER_HOST; `minikube docker-env` names
    # Minikube's daemon (FAKE_DOCKER_HOST), the host's has no DOCKER_HOST ("local").
    minikube_store = f"daemon-{hashlib.sha256(b'fake://minikube').hexdigest()[:8]}.json"
    assert [p.name for p in s.docker.state_dir.glob("daemon-*.json")] == [minikube_store]
    assert s.docker.refs("fake://minikube") and not s.docker.refs("local")
    builds = [c for c in s.docker.calls() if c["argv"][:1] == ["build"]]
    assert builds and {c["docker_host"] for c in builds} == {"fake://minikube"}


def test_minikube_up_starts_the_host_databases_before_the_services(
    project: Path, fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """environments/minikube.yaml keeps mongodb and redis on the host (placement: compose)."""
    bin_dir = fake_cluster.bin_dir
    assert bin_dir is not None
    # docker (builds, tags, image ls, ps, volume) and docker-compose share one store and one log.
    state = tmp_path / "fake-docker"
    daemon = fake_docker.install(bin_dir, state)
    fake_compose.install(bin_dir, state)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    host_ports(monkeypatch)
    monkeypatch.setenv("FAKE_DOCKER_HOST", "fake://minikube")
    result = run_doit(project, "minikube_up", "env=minikube")
    assert result.code == 0, result.out
    ups = [c["argv"] for c in harness.read_calls(daemon.log, "docker-compose") if "up" in c["argv"]]
    assert len(ups) == 1 and ups[0][-2:] == ["mongodb", "redis"], ups
    # The databases run on the host's daemon, not in Minikube's.
    containers = daemon.store("local")["containers"].values()
    running = {c["labels"]["com.docker.compose.service"] for c in containers}
    assert running == {"mongodb", "redis"}, running
    # Healthy before anything that connects to them is applied.
    healthy = result.out.index("databases healthy: mongodb, redis")
    assert healthy < result.out.index("deployment.apps/engine created")
