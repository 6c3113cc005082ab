"""Secrets, end to end: whatever form compose/<env>/.env uses, `doit compose_config` never prints a
secret, the Kubernetes Secret holds what Compose gives its databases, adding a secret keeps the
file's bytes, a linked .env is refused without touching what it points to, and no secret ever
lands in a committed file, a ConfigMap or a log. doit runs in-process on a project copy; Compose is
the real pinned `docker-compose` (`config` reaches no daemon), the cluster the stateful fakes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from testing.fakes import docker as fake_docker
from testing.fakes.cluster import FakeCluster
from testing.minikube_env import write_test_env
from testing.project import run_doit

ENV = "local"
COMPOSE = Path(sys.executable).parent / "docker-compose"


def write_env(project: Path, text: str, env: str = ENV) -> Path:
    path = project / "compose" / env / ".env"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, newline="")
    path.chmod(0o600)
    return path


def database_password(project: Path, env: str = ENV) -> str:
    """What Compose gives the RabbitMQ container, asked of the real docker-compose directly."""
    folder = project / "compose" / env
    result = subprocess.run(
        [str(COMPOSE), "--project-directory", str(folder)]
        + ["-f", str(folder / "docker-compose-db.yml"), "--env-file", str(folder / ".env")]
        + ["config", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    value: str = json.loads(result.stdout)["services"]["rabbitmq"]["environment"]["RABBITMQ_DEFAULT_PASS"]
    return value.replace("$$", "$")  # `config`'s own escape of a `$`


def leaked(secret: str, text: str) -> list[str]:
    """The secret, or any line of it (Compose prints a multi-line value with `\\n` escapes)."""
    return [part for part in {secret, *secret.splitlines()} if len(part) >= 6 and part in text]


FORMS = {
    "inline comment": "RABBITMQ_PASSWORD=Sup3rS3cretAlpha #rotated 2024-05\n",
    "dollar escape": "RABBITMQ_PASSWORD=Sup3r$$S3cretDollar\n",
    "interpolated default": "RABBITMQ_PASSWORD=Sup3r${NOT_SET_ANYWHERE:-S3cretDefault}\n",
    "interpolated line above": "PREFIX=Sup3rPrefix\nRABBITMQ_PASSWORD=${PREFIX}S3cretJoined\n",
    "newline in double quotes": 'RABBITMQ_PASSWORD="Line1Sup3rS3cret\\nLine2Sup3rS3cret"\n',
    "single quotes": "RABBITMQ_PASSWORD='Sup3r $HOME S3cretLiteral'\n",
    "export, spaces and a colon": "export RABBITMQ_PASSWORD : Sup3rS3cretColon  \n",
    "later line wins": "RABBITMQ_PASSWORD=Sup3rS3cretFirst\nRABBITMQ_PASSWORD=Sup3rS3cretSecond\n",
}


@pytest.mark.parametrize("form", FORMS)
def test_compose_config_never_prints_a_secret_whatever_form_the_env_file_uses(
    project: Path, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RABBITMQ_PASSWORD", raising=False)
    write_env(project, FORMS[form])
    secret = database_password(project)
    assert "Sup3r" in secret  # the form gave Compose a real value
    result = run_doit(project, "compose_config", f"env={ENV}")
    assert result.code == 0, result.out
    assert (
        "RABBITMQ_DEFAULT_PASS: '********'" in result.out or "RABBITMQ_DEFAULT_PASS: ********" in result.out
    )
    assert leaked(secret, result.out) == [], result.out


def test_a_secret_from_the_environment_compose_runs_in_is_masked_too(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Compose lets its environment win over the .env: the database gets that value.
    write_env(project, "RABBITMQ_PASSWORD=Sup3rS3cretFile\n")
    monkeypatch.setenv("RABBITMQ_PASSWORD", "Sup3rS3cretShell")
    result = run_doit(project, "compose_config", f"env={ENV}")
    assert result.code == 0, result.out
    assert leaked("Sup3rS3cretShell", result.out) == [] and leaked("Sup3rS3cretFile", result.out) == []


def test_a_line_compose_cannot_read_is_reported_without_its_value(project: Path) -> None:
    write_env(project, 'OTHER=1\nRABBITMQ_PASSWORD="Sup3rS3cretUnclosed\n')
    result = run_doit(project, "compose_config", f"env={ENV}")
    assert result.code == 1 and "Traceback" not in result.out
    assert f"compose/{ENV}/.env, line 2: a quoted value is not closed" in result.out
    assert "Sup3rS3cretUnclosed" not in result.out


def test_adding_a_secret_keeps_every_byte_of_a_file_without_a_final_newline(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RABBITMQ_PASSWORD", raising=False)
    stack = project / "environments" / "stack.yaml"
    # Declared, and given to one service (a secret no container gets is refused).
    text = stack.read_text().replace("  - RABBITMQ_PASSWORD\n", "  - RABBITMQ_PASSWORD\n  - API_TOKEN\n")
    stack.write_text(
        text.replace("    kind: deployment\n", "    kind: deployment\n    secrets: [API_TOKEN]\n", 1)
    )
    assert run_doit(project, "render").code == 0
    original = b"# mine\nRABBITMQ_PASSWORD=keepme123"
    path = write_env(project, original.decode())
    result = run_doit(project, "compose_config", f"env={ENV}")
    assert result.code == 0, result.out
    assert f"added random values for API_TOKEN to compose/{ENV}/.env (existing values kept)" in result.out
    data = path.read_bytes()
    assert data.startswith(original + b"\nAPI_TOKEN=") and data.endswith(b"\n") and data.count(b"\n") == 3
    assert database_password(project) == "keepme123"
    assert "keepme123" not in result.out


def test_a_linked_env_file_is_refused_and_what_it_points_to_is_left_alone(
    project: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere" / "secrets.env"
    outside.parent.mkdir()
    outside.write_text("OTHER=Sup3rS3cretOutside")  # missing RABBITMQ_PASSWORD: it would be added
    outside.chmod(0o644)
    link = project / "compose" / ENV / ".env"
    link.symlink_to(outside)
    result = run_doit(project, "compose_config", f"env={ENV}")
    assert result.code == 1 and "Traceback" not in result.out, result.out
    assert f"compose/{ENV}/.env is a symbolic link (to {outside})" in result.out
    fix = result.out.split("Fix: ")[1]
    assert "chmod" not in fix and f"mv compose/{ENV}/.env.new compose/{ENV}/.env" in fix
    assert outside.read_text() == "OTHER=Sup3rS3cretOutside" and outside.stat().st_mode & 0o777 == 0o644
    assert link.is_symlink()


def files_holding(root: Path, needle: str, *, skip: tuple[Path, ...] = ()) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if (
            path.is_file()
            and not path.is_symlink()
            and path not in skip
            and needle.encode() in path.read_bytes()
        ):
            found.append(str(path.relative_to(root)))
    return sorted(found)


def test_secrets_never_reach_committed_files_configmaps_or_logs(
    project: Path, fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = write_test_env(project)
    assert fake_cluster.bin_dir is not None
    fake_docker.install(fake_cluster.bin_dir, tmp_path / "fake-docker")
    monkeypatch.setenv("FAKE_DOCKER_HOST", "fake://minikube")
    monkeypatch.delenv("RABBITMQ_PASSWORD", raising=False)
    dotenv = write_env(project, "RABBITMQ_PASSWORD=Sup3rS3cretCluster #rotated\n", env)
    # A password written into an endpoint is refused before anything is written.
    env_file = project / "environments" / f"{env}.yaml"
    clean = env_file.read_text()
    env_file.write_text(
        clean.replace("mongo.example.test:27017", "mongodb+srv://app:Sup3rS3cretEndpoint@mongo.example.test")
    )
    refused = run_doit(project, "render")
    assert refused.code == 78 and "==> At endpoints.mongodb" in refused.out, refused.out
    assert "Sup3rS3cretEndpoint" not in refused.out
    env_file.write_text(clean)
    for argv in (("render",), ("minikube_up", f"env={env}"), ("minikube_status", f"env={env}")):
        result = run_doit(project, *argv)
        assert result.code == 0, result.out
        assert "Sup3rS3cret" not in result.out
    # The Secret holds what Compose reads from the same line; no ConfigMap holds it.
    secret = fake_cluster.get("Secret", "srvthreds-secrets", "srvthreds")
    assert secret is not None and secret["stringData"] == {"RABBITMQ_PASSWORD": "Sup3rS3cretCluster"}
    configmaps = json.dumps(fake_cluster.objects("ConfigMap"))
    assert "srvthreds" in configmaps and "Sup3rS3cret" not in configmaps
    # Nothing in the project (committed files, .build/ with its logs) but the .env holds either.
    assert (
        files_holding(project, "Sup3rS3cret", skip=(dotenv, project / "environments" / f"{env}.yaml")) == []
    )
    assert any((project / ".build" / "logs").iterdir())  # the logs were written, and searched


def test_cloud_secret_values_never_reach_a_generated_file_or_an_offline_run(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cloud environments name their secrets (the ExternalSecret, the Secrets Manager entries in
    Terraform) and never hold a value: with values in every cloud environment's .env and in the
    environment doit runs in, neither a generated file nor what render and validate print holds one."""
    values = {env: f"Sup3rS3cretCloud{env.title()}" for env in ("dev", "staging", "prod")}
    dotenvs = tuple(write_env(project, f"RABBITMQ_PASSWORD={value}\n", env) for env, value in values.items())
    monkeypatch.setenv("RABBITMQ_PASSWORD", "Sup3rS3cretCloudShell")
    argv = ("render", "validate:k8s-dev", "validate:k8s-staging", "validate:k8s-prod", "tf_validate")
    result = run_doit(project, *argv)
    assert result.code == 0, result.out
    assert "k8s/overlays/prod: schema" in result.out and "structural checks" in result.out
    assert "Sup3rS3cret" not in result.out
    for env in values:
        external = (project / f"k8s/overlays/{env}/external-secrets.yaml").read_text()
        assert f"key: srvthreds/{env}/RABBITMQ_PASSWORD" in external
        tfvars = (project / f"terraform/environments/{env}/terraform.tfvars").read_text()
        assert 'entry_names                  = ["RABBITMQ_PASSWORD"]' in tfvars
    assert (project / ".build/manifests/prod.yaml").is_file()  # the built overlay was searched too
    assert files_holding(project, "Sup3rS3cret", skip=dotenvs) == []
