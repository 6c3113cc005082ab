"""Contract tests for `doit deploy:<env>` (and smoke, rollback) on a project copy: images pinned
to the registry, a no-op twice, a new tag rolled out and a failure rolled back, a clean
failure for an unreachable cluster, secrets never written for the cloud, refusing an image
the overlay does not pin; in argocd mode, a deploy that applies nothing and waits for the
Application, and a Degraded one that fails with its message. The cluster is the stateful fake
kubectl, docker the fake docker."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from testing.fakes import docker as fake_docker
from testing.fakes import skopeo as fake_skopeo
from testing.fakes.cluster import FakeCluster
from testing.minikube_stack import NS
from testing.project import git as _git
from testing.project import run_doit

REGISTRY = "123456789012.dkr.ecr.us-west-2.amazonaws.com"


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
    return fake_skopeo.pinned(f"{REGISTRY}/{_ref(project, 'engine')}")


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
    first = run_doit(project, "push:dev", "deploy:dev", "env=dev")
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
    second = run_doit(project, "push:dev", "deploy:dev", "env=dev")
    assert second.code == 0, second.out
    secret = dev.get("Secret", "srvthreds-secrets", NS)
    assert secret is not None and secret["stringData"] == {"RABBITMQ_PASSWORD": "the-real-one"}


def test_smoke_fails_when_a_deployment_is_not_ready(project: Path, dev: FakeCluster) -> None:
    assert run_doit(project, "push:dev", "deploy:dev", "env=dev").code == 0
    assert run_doit(project, "smoke:dev", "env=dev").code == 0
    dev.inject_rollout_failure("engine")  # its pods crash: 0 of 1 ready
    result = run_doit(project, "smoke:dev", "env=dev")
    assert result.code != 0, result.out
    assert "smoke check failed: engine 0/1" in result.out and "Traceback" not in result.out


def test_smoke_fails_when_a_deployment_is_missing(project: Path, dev: FakeCluster) -> None:
    assert run_doit(project, "push:dev", "deploy:dev", "env=dev").code == 0
    assert dev.delete_object("Deployment", "session-agent", NS)
    result = run_doit(project, "smoke:dev", "env=dev")
    assert result.code != 0, result.out
    assert "smoke check failed: session-agent missing" in result.out


def test_rollback_changes_what_runs_and_the_next_deploy_is_not_fooled(
    project: Path, dev: FakeCluster
) -> None:
    assert run_doit(project, "push:dev", "deploy:dev", "env=dev").code == 0
    good = _image(dev, "engine")
    new = _new_engine_release(project, "a release that rolls out, then misbehaves")
    assert run_doit(project, "push:dev", "deploy:dev", "env=dev").code == 0
    assert _image(dev, "engine") == new
    rolled = run_doit(project, "rollback:dev", "env=dev")
    assert rolled.code == 0, rolled.out
    assert _image(dev, "engine") == good  # the cluster really runs the known-good release again
    status = run_doit(project, "smoke:dev", "env=dev")
    assert status.code == 0, status.out
    # The images recorded for dev are still the new release: the cluster is not current,
    # and the next deploy must apply it again instead of calling it up to date.
    again = run_doit(project, "push:dev", "deploy:dev", "env=dev")
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


def test_deploy_pins_registry_images_and_is_a_noop_twice(project: Path, dev: FakeCluster) -> None:
    first = run_doit(project, "push:dev", "deploy:dev", "env=dev")
    assert first.code == 0, first.out
    # The digest the registry serves (read back after the push), not the daemon's tag.
    assert _image(dev, "engine") == fake_skopeo.pinned(f"{REGISTRY}/{_ref(project, 'engine')}")
    assert dev.get("Job", "bootstrap", NS) is not None
    assert "smoke check: 3 deployments ready" in first.out
    assert all(
        c["argv"][:2] == ["--context", "srvthreds-dev"]
        for c in dev.calls("kubectl")
        if c["argv"][0] != "kustomize"
    )
    dev.clear_calls()
    again = run_doit(project, "push:dev", "deploy:dev", "env=dev")
    assert again.code == 0, again.out
    assert dev.mutating_calls() == []
    assert "deploy:dev" not in again.executed()


def test_new_tag_rolls_out_and_failure_rolls_back(project: Path, dev: FakeCluster) -> None:
    assert run_doit(project, "push:dev", "deploy:dev", "env=dev").code == 0
    good = _image(dev, "engine")
    module = project / "demo/srvthreds_demo/engine.py"
    module.write_text(module.read_text() + "\n# bad release\n")
    assert run_doit(project, "images:engine", "env=dev").code == 0
    bad = fake_skopeo.pinned(f"{REGISTRY}/{_ref(project, 'engine')}")
    assert bad != good
    dev.inject_rollout_failure("engine", image=bad)
    dev.clear_calls()
    failed = run_doit(project, "push:dev", "deploy:dev", "env=dev")
    assert failed.code != 0
    assert any(c["argv"][-2:] == ["undo", "deployment/engine"] for c in dev.mutating_calls("kubectl"))
    assert "CrashLoopBackOff" in failed.out and "Traceback" not in failed.out
    # Rolled back to the good image.
    assert _image(dev, "engine") == good


def test_unreachable_cluster_fails_cleanly(project: Path, fake_cluster: FakeCluster, tmp_path: Path) -> None:
    assert fake_cluster.bin_dir is not None
    fake_docker.install(fake_cluster.bin_dir, tmp_path / "fake-docker")
    assert run_doit(project, "images", "env=dev").code == 0
    result = run_doit(project, "push:dev", "deploy:dev", "env=dev")  # no srvthreds-dev context exists
    assert result.code != 0
    assert 'context "srvthreds-dev" does not exist' in result.out and "Traceback" not in result.out
    assert "run `doit kubeconfig:<env>` (cloud)" in result.out  # the fix, not only kubectl's words


# --------------------------------------------------------------------------- deploy_mode: argocd


def _play_argo_cd(project: Path, cluster: FakeCluster) -> str:
    """Switch dev to argocd mode, push, commit, then do what Argo CD would: sync deploy/dev
    into the cluster (the test applies it, never the product) and hold the Application.
    Returns the commit."""
    env_file = project / "environments/dev.yaml"
    env_file.write_text(
        env_file.read_text().replace(
            "  create_shared: true\n", "  create_shared: true\n  deploy_mode: argocd\n"
        )
    )
    pushed = run_doit(project, "render", "push:dev", "env=dev")
    assert pushed.code == 0, pushed.out
    app = yaml.safe_load((project / "k8s/overlays/dev/argocd-application.yaml").read_text())
    assert app["spec"]["source"]["path"] == "deploy/dev"
    _git(project, "init", "-q")
    _git(project, "add", "environments", "k8s", "deploy")
    _git(project, "commit", "-qm", "release")
    built = subprocess.run(
        ["kubectl", "kustomize", str(project / "deploy/dev")], capture_output=True, text=True, check=True
    ).stdout
    assert f"{REGISTRY}/srvthreds/engine@sha256:" in built  # the record's digests, pinned
    for doc in yaml.safe_load_all(built):
        if doc:
            _kubectl_apply(cluster, doc)
    cluster.add_object(app)
    return _git(project, "rev-parse", "HEAD")


def test_in_argocd_mode_deploy_applies_nothing_and_waits_for_the_application(
    project: Path, dev: FakeCluster
) -> None:
    head = _play_argo_cd(project, dev)
    dev.set_application("srvthreds-dev", "argocd", sync="Synced", health="Healthy", revision=head)
    dev.clear_calls()
    result = run_doit(project, "deploy:dev", "env=dev")
    assert result.code == 0, result.out
    assert "argocd mode: nothing applied here" in result.out
    assert f"Synced and Healthy at {head[:12]}" in result.out
    assert "smoke check:" in result.out
    kubectl_calls = dev.calls("kubectl")
    assert kubectl_calls and dev.mutating_calls() == []
    assert not [c for c in kubectl_calls if {"apply", "delete", "rollout"} & set(c["argv"])]


def test_in_argocd_mode_a_degraded_application_fails_with_its_message_and_the_summary(
    project: Path, dev: FakeCluster
) -> None:
    head = _play_argo_cd(project, dev)
    dev.inject_rollout_failure("engine")
    dev.set_application(
        "srvthreds-dev",
        "argocd",
        sync="Synced",
        health="Degraded",
        revision=head,
        message="Deployment engine has timed out progressing",
    )
    dev.clear_calls()
    result = run_doit(project, "deploy:dev", "env=dev")
    assert result.code != 0, result.out
    assert "workload(s) not healthy in Argo CD Application argocd/srvthreds-dev" in result.out
    assert "application/srvthreds-dev: Degraded" in result.out
    assert "message: Deployment engine has timed out progressing" in result.out
    assert "deployment/engine: CrashLoopBackOff" in result.out  # as the kubectl path diagnoses it
    assert "Traceback" not in result.out
    assert dev.mutating_calls() == []
