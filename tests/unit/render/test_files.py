"""tasks/render/files.py: Config -> outputs (Kubernetes base, components and overlays, Compose, Terraform)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.checks import crds, tfcheck
from tasks.config import load as config
from tasks.model import ArgoCD, Autoscale, SyncRule
from tasks.programs import compose as compose_cli
from tasks.render import files as render
from tasks.render import templates
from tasks.store import images
from testing import configs
from testing.project import REPO


@pytest.mark.parametrize(
    ("quantity", "cpus"), [("500m", "0.5"), ("1500m", "1.5"), ("2", "2"), ("0.25", "0.25"), ("1000m", "1")]
)
def test_cpu_quantities_become_compose_cpus(quantity: str, cpus: str) -> None:
    assert render.cpus(quantity) == cpus


@pytest.mark.parametrize(
    ("quantity", "memory"),
    [
        ("256Mi", "256m"),
        ("1Gi", "1g"),
        ("512Ki", "512k"),
        ("3K", "3k"),
        ("100M", "100m"),
        ("2G", "2g"),
        ("64", "64"),
    ],
)
def test_memory_quantities_become_compose_bytes(quantity: str, memory: str) -> None:
    assert render.memory(quantity) == memory


def test_only_placed_databases_get_an_endpoint() -> None:
    offline = config.load("offline", REPO)
    disabled = [db for db in offline.databases.values() if db.placement == "disabled"]
    assert disabled  # the offline environment runs without MongoDB
    endpoints = render.endpoints(offline)
    assert all(db.env_var not in endpoints for db in disabled)
    assert set(endpoints) == {db.env_var for db in offline.databases.values() if db.placement != "disabled"}


def test_compose_escapes_dollar_signs_in_values(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    cfg = config.load("local", project)
    texts = templates.texts(render.compose(replace(cfg, config={**cfg.config, "PRICE": "5$ or ${HOME}"})))
    assert 'PRICE: "5$$ or $${HOME}"' in texts["compose/local/docker-compose-services.yml"]


def _environment(compose_text: str, service: str) -> dict[str, str]:
    return yaml.safe_load(compose_text)["services"][service]["environment"]  # type: ignore[no-any-return]


def test_a_service_gets_only_the_addresses_and_secrets_of_what_it_uses(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's engine uses rabbitmq and redis: MongoDB's address is not its business. A
    second secret, named by persistence-agent alone, reaches that service only."""
    path = project / "environments" / "stack.yaml"
    data = yaml.safe_load(path.read_text())
    data["secrets"].append("ARCHIVE_TOKEN")
    data["services"]["persistence-agent"]["secrets"] = ["ARCHIVE_TOKEN"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    monkeypatch.chdir(project)
    cfg = config.load("local", project)
    compose = templates.texts(render.compose(cfg))["compose/local/docker-compose-services.yml"]
    engine, archive = _environment(compose, "engine"), _environment(compose, "persistence-agent")
    assert {"RABBITMQ_HOST", "REDIS_HOST", "RABBITMQ_PASSWORD", "RABBITMQ_USER"} <= set(engine)
    assert "MONGO_HOST" not in engine and "ARCHIVE_TOKEN" not in engine
    assert {"MONGO_HOST", "ARCHIVE_TOKEN", "RABBITMQ_PASSWORD"} <= set(
        archive
    ) and "REDIS_HOST" not in archive

    base = templates.texts(render.k8s_base(config.load_stack(project)))
    env = _container(base["k8s/base/engine.yaml"])["env"]
    refs = {e["name"]: e["valueFrom"] for e in env if "valueFrom" in e}
    assert refs == {
        "RABBITMQ_HOST": {"configMapKeyRef": {"name": "srvthreds-addresses", "key": "RABBITMQ_HOST"}},
        "REDIS_HOST": {"configMapKeyRef": {"name": "srvthreds-addresses", "key": "REDIS_HOST"}},
        "RABBITMQ_PASSWORD": {"secretKeyRef": {"name": "srvthreds-secrets", "key": "RABBITMQ_PASSWORD"}},
    }
    # The shared settings are still read whole; the addresses are not in that ConfigMap.
    assert _container(base["k8s/base/engine.yaml"])["envFrom"] == [
        {"configMapRef": {"name": "srvthreds-config"}}
    ]
    maps = {d["metadata"]["name"]: d["data"] for d in yaml.safe_load_all(base["k8s/base/configmap.yaml"])}
    assert maps["srvthreds-config"] == {"RABBITMQ_USER": "srvthreds"}
    assert set(maps["srvthreds-addresses"]) == {"MONGO_HOST", "REDIS_HOST", "RABBITMQ_HOST"}
    # An optional use may be disabled where it runs: its address is then optional too.
    boot = {e["name"]: e for e in _container(base["k8s/base/bootstrap.yaml"])["env"]}
    assert boot["MONGO_HOST"]["valueFrom"]["configMapKeyRef"].get("optional") is True
    assert "optional" not in boot["REDIS_HOST"]["valueFrom"]["configMapKeyRef"]


def _kinds(data: dict[str, Any]) -> None:
    services = data["services"]
    services["engine"]["health"] = {"kind": "exec", "command": ["/bin/check", "--quick"]}
    services["persistence-agent"]["health"] = {"kind": "tcp", "port": 8080}
    services["persistence-agent"]["replicas"] = 3


@pytest.fixture
def kinds(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = project / "environments" / "stack.yaml"
    data = yaml.safe_load(path.read_text())
    _kinds(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    monkeypatch.chdir(project)
    return project


def _container(text: str) -> dict[str, Any]:
    doc = yaml.safe_load(text.split("\n---\n")[0])
    return doc["spec"]["template"]["spec"]["containers"][0]  # type: ignore[no-any-return]


def test_kubernetes_probes_follow_the_kind(kinds: Path) -> None:
    base = templates.texts(render.k8s_base(config.load_stack(kinds)))
    engine = _container(base["k8s/base/engine.yaml"])
    for probe in ("livenessProbe", "readinessProbe"):
        assert engine[probe]["exec"] == {"command": ["/bin/check", "--quick"]}
    agent = _container(base["k8s/base/persistence-agent.yaml"])
    for probe in ("livenessProbe", "readinessProbe"):
        assert agent[probe]["tcpSocket"] == {"port": 8080} and "httpGet" not in agent[probe]
    http = _container(base["k8s/base/session-agent.yaml"])
    assert http["livenessProbe"]["tcpSocket"] == {"port": 3000}
    assert http["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": 3000}


def test_compose_renders_the_kind_and_the_replicas(kinds: Path) -> None:
    out = templates.texts(render.compose(config.load("local", kinds)))
    services = yaml.safe_load(out["compose/local/docker-compose-services.yml"])["services"]
    assert services["engine"]["healthcheck"]["test"] == ["CMD", "/bin/check", "--quick"]
    assert services["persistence-agent"]["healthcheck"]["test"][:3] == ["CMD", "bash", "-c"]
    assert services["persistence-agent"]["deploy"]["replicas"] == 3
    assert "replicas" not in services["engine"]["deploy"]  # 1: Compose's own default, nothing written
    assert "bootstrap" in services and "healthcheck" not in services["bootstrap"]
    assert "python3" not in str([s.get("healthcheck") for s in services.values()])


def test_a_published_service_keeps_one_container_where_compose_is_not_the_runtime(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    text = templates.texts(render.compose(config.load("prod", project)))[
        "compose/prod/docker-compose-services.yml"
    ]
    services = yaml.safe_load(text)["services"]
    assert "replicas" not in services["session-agent"]["deploy"]  # publishes 3000, prod says 2
    assert "replicas is 2 here, but host port 3000 can be bound by one container only" in text
    assert services["engine"]["deploy"]["replicas"] == 3


def _edit_stack(project: Path, change: Any) -> None:
    path = project / "environments" / "stack.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_images_uid_reaches_pods_and_compose(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    _edit_stack(project, lambda d: d["images"].__setitem__("uid", 4242))
    stack = config.load_stack(project)
    deployment = yaml.safe_load(
        templates.texts(render.k8s_base(stack))["k8s/base/engine.yaml"].split("---")[0]
    )
    pod = deployment["spec"]["template"]["spec"]["securityContext"]
    assert (pod["runAsUser"], pod["runAsGroup"], pod["fsGroup"]) == (4242, 4242, 4242)
    compose = templates.texts(render.compose(config.load("local", project)))[
        "compose/local/docker-compose-services.yml"
    ]
    assert yaml.safe_load(compose)["x-hardening"]["user"] == "4242:4242"
    assert "10001" not in compose


def test_a_disabled_job_is_deleted_as_a_job() -> None:
    from dataclasses import replace

    stack = config.load_stack(REPO)
    minikube = config.load("minikube", REPO)
    jobs = [name for name, svc in minikube.services.items() if svc.kind == "job"]
    assert jobs
    without = replace(minikube, services={k: v for k, v in minikube.services.items() if k != jobs[0]})
    out = templates.texts(render.k8s_overlay(without, stack))
    patch = out[f"k8s/overlays/minikube/delete-{jobs[0]}.patch.yaml"]
    assert "kind: Job" in patch and "batch/v1" in patch and "Deployment" not in patch


def test_only_a_cloud_environment_renders_terraform() -> None:
    with pytest.raises(AssertionError):
        render.terraform(config.load("local", REPO))


def test_ecr_repositories_are_the_images_the_cluster_runs(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rendered from the project, as under doit: templates are found from the working folder, so
    # without this the test would render through whatever folder an earlier test left current.
    monkeypatch.chdir(project)
    cfg = config.load("dev", project)
    repos = sorted(set(images.pushed(cfg).values()))
    assert repos == sorted(cfg.image_ref(s) for s in cfg.services)
    assert f"{cfg.images.prefix}/builder" not in repos  # the builder is never pushed
    rendered = render.terraform(cfg)["terraform/environments/dev/terraform.tfvars"]
    tfvars = tfcheck.loads(rendered())
    assert tfvars["ecr_repositories"] == repos
    assert tfvars["cluster_version"] == "1.33" and tfvars["create_shared"] is True
    assert tfvars["admin_arns"] == ["arn:aws:iam::123456789012:role/platform-admin"]
    assert tfvars["reader_arns"] == ["arn:aws:iam::123456789012:role/developer"]
    assert tfvars["endpoint_public_access_cidrs"] == ["203.0.113.0/24"]
    assert tfvars["github_repository"] == "example-org/srvthreds"


def test_every_value_of_ours_reads_back_through_compose_with_its_dollar_signs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `$` in each field a value of ours lands in, read back by the real `docker compose
    config` (it interpolates the file as `up` does, and needs no daemon)."""
    root = configs.small_project(tmp_path)
    data = configs.stack()
    web, pg = data["services"]["web"], data["databases"]["pg"]
    web["command"] = ["serve", "--token=$TOKEN", "${HOME}"]
    web["env"] = {"GREETING": "costs 5$"}
    web["health"] = {"kind": "exec", "command": ["sh", "-c", 'test -n "$PORT"']}
    data["services"]["migrate"]["command"] = ["sh", "-c", "migrate --to $$VERSION"]
    pg["command"] = ["postgres", "-c", "password=${PG_PASSWORD}"]
    pg["healthcheck"] = ["sh", "-c", 'pg_isready -U "$POSTGRES_USER"']
    pg["env"] = {"PGDATA": "/data/$sub"}
    env = {**configs.LOCAL, "config": {"GREETING_URL": "http://x/?a=$b"}}
    cfg = configs.load(root, data, env)
    monkeypatch.chdir(root)
    for rel, text in templates.texts(render.compose(cfg)).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "compose/test/.env").write_text("PG_PASSWORD=pw\n")
    project = compose_cli.Project(
        "compose/test",
        ("compose/test/docker-compose-db.yml", "compose/test/docker-compose-services.yml"),
        "compose/test/.env",
    )
    # `config` prints a Compose file again, so its literal dollars are escaped again (`$$`);
    # a value Compose interpolated would have lost its variable (`$TOKEN` -> "").
    # The job's profile is named after it: activated, so `config` shows it too.
    text = compose_cli.config(project, env={"COMPOSE_PROFILES": "migrate"})
    services = yaml.safe_load(text.replace("$$", "$"))["services"]
    assert services["web"]["command"] == ["serve", "--token=$TOKEN", "${HOME}"]
    assert services["web"]["environment"]["GREETING"] == "costs 5$"
    assert services["web"]["environment"]["GREETING_URL"] == "http://x/?a=$b"
    assert services["web"]["healthcheck"]["test"] == ["CMD", "sh", "-c", 'test -n "$PORT"']
    assert services["migrate"]["command"] == ["sh", "-c", "migrate --to $$VERSION"]
    assert services["pg"]["command"] == ["postgres", "-c", "password=${PG_PASSWORD}"]
    assert services["pg"]["healthcheck"]["test"] == ["CMD", "sh", "-c", 'pg_isready -U "$POSTGRES_USER"']
    assert services["pg"]["environment"]["PGDATA"] == "/data/$sub"
    # What the tool means Compose to fill in still is: the secret from .env.
    assert services["pg"]["environment"]["POSTGRES_PASSWORD"] == "pw"


def test_a_synced_service_keeps_a_writable_root_filesystem_in_compose() -> None:
    """`docker cp` (live sync) is refused on a read-only root: only a synced deployment drops it."""
    rule = (SyncRule("app/src", "/srv/app", "container"),)
    sized: dict[str, Any] = {
        "requests": {"cpu": "100m", "memory": "64Mi"},
        "limits": {"cpu": "1", "memory": "128Mi"},
    }
    cfg = configs.config(
        "local",
        [
            configs.service("web", sync=rule, **sized),
            configs.service("api", **sized),
            configs.service("seed", kind="job", **sized),
        ],
        [],
    )
    text = templates.texts(render.compose(cfg))["compose/local/docker-compose-services.yml"]
    services = yaml.safe_load(text)["services"]
    assert services["web"]["read_only"] is False
    assert services["api"]["read_only"] is True and services["seed"]["read_only"] is True
    assert services["web"]["cap_drop"] == ["ALL"]  # the rest of the hardening stays
    assert "develop" not in services["web"] and "/srv/app" not in text  # the rules are ours, not Compose's


def test_scaling_gives_an_autoscaler_where_declared_and_a_budget_above_one_replica() -> None:
    cfg = configs.config(
        "prod",
        [
            configs.service("api", autoscale=Autoscale(min=2, max=4, cpu=50)),
            configs.service("solo", autoscale=Autoscale(min=1, max=3)),
            configs.service("pair", replicas=2),
            configs.service("one"),
            configs.service("once", kind="job"),
        ],
        [],
        runtime="kubernetes",
    )
    objects = [(kind, svc.name) for kind, svc in render.scaling(cfg)]
    assert objects == [("hpa", "api"), ("hpa", "solo"), ("pdb", "api"), ("pdb", "pair")]


def test_only_argocd_mode_renders_an_application_beside_the_overlay_not_into_it() -> None:
    stack = config.load_stack(REPO)
    dev = config.load("dev", REPO)
    assert dev.cloud is not None
    assert render.beside(dev) == {}
    argo = replace(
        dev,
        cloud=replace(
            dev.cloud,
            deploy_mode="argocd",
            argocd=ArgoCD("https://github.com/o/r.git", revision="main", automated=False),
        ),
    )
    out = templates.texts(render.k8s_overlay(argo, stack))
    app = yaml.safe_load(out["k8s/overlays/dev/argocd-application.yaml"])
    assert crds.problems(app) == []
    assert app["metadata"] == {
        "name": "srvthreds-dev",
        "namespace": "argocd",
        "labels": {"app.kubernetes.io/part-of": "srvthreds"},
    }
    assert app["spec"]["source"] == {
        "repoURL": "https://github.com/o/r.git",
        "targetRevision": "main",
        "path": "deploy/dev",
    }
    assert app["spec"]["destination"]["namespace"] == dev.namespace
    assert "syncPolicy" not in app["spec"]  # automated: false, so a person syncs
    kustomization = yaml.safe_load(out["k8s/overlays/dev/kustomization.yaml"])
    assert "argocd-application.yaml" not in str(kustomization)
    automated = replace(
        argo,
        cloud=replace(dev.cloud, deploy_mode="argocd", argocd=ArgoCD("https://x.example/r.git", prune=True)),
    )
    again = yaml.safe_load(
        templates.texts(render.k8s_overlay(automated, stack))["k8s/overlays/dev/argocd-application.yaml"]
    )
    assert again["spec"]["syncPolicy"] == {"automated": {"prune": True, "selfHeal": True}}
    assert crds.problems(again) == []


def test_compose_monitoring_renders_prometheus_and_its_scrape_configuration(tmp_path: Path) -> None:
    root = configs.small_project(tmp_path)
    data = configs.stack()
    data["services"]["web"]["metrics"] = {"port": 8080, "path": "/stats", "queue": "jobs_waiting"}
    cfg = configs.load(root, data, {**configs.LOCAL, "components": ["monitoring"]})
    texts = templates.texts(render.compose(cfg))
    scrape = yaml.safe_load(texts["compose/test/prometheus.yml"])
    assert scrape["scrape_configs"] == [
        {
            "job_name": "web",
            "metrics_path": "/stats",
            "static_configs": [{"targets": ["web:8080"], "labels": {"service": "web"}}],
        }
    ]
    prometheus = yaml.safe_load(texts["compose/test/docker-compose-db.yml"])["services"]["prometheus"]
    assert prometheus["image"] == "${PROMETHEUS_IMAGE:-acme/prometheus:latest}"
    assert prometheus["ports"] == ["127.0.0.1:9090:9090"]
    assert prometheus["volumes"] == [
        "prometheus-data:/prometheus",
        "./prometheus.yml:/etc/prometheus/prometheus.yml:ro",
    ]
    assert prometheus["healthcheck"]["test"] == ["CMD", "prometheus-healthy", "9090"]
    assert prometheus["networks"] == ["shop-net"]
    pg = yaml.safe_load(texts["compose/test/docker-compose-db.yml"])["services"]["pg"]
    assert pg["ports"] == ["15432:5432"]  # a database publishes on every address, as before


def test_no_scrape_configuration_without_compose_monitoring(tmp_path: Path) -> None:
    root = configs.small_project(tmp_path)
    assert "compose/test/prometheus.yml" not in render.compose(configs.load(root, None, configs.LOCAL))
