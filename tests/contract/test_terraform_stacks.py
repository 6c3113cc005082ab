"""Terraform follows the stack: a second stack's roots hold only the modules it chose.

The stack here is written from scratch in a temporary folder (postgres, memcached and
nats; a cloud environment named `qa`), rendered with the product's own config loader and
renderer, then checked as terraform/ is: python-hcl2 structure (tasks/checks/tfcheck.py), `terraform
fmt`, and a real `terraform plan` of the rendered variables against the rendered tfvars
(offline: a root of variables only needs no provider), which is where a name such as `qa`
used to be refused.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import hcl2  # noqa: F401  (the `dev` extra: missing, the run fails, never a silent module skip)
import pytest

from tasks.checks import tfcheck
from tasks.config import load as config
from tasks.errors import ConfigError
from tasks.programs import tools
from tasks.render import files as render
from tasks.render import templates, writer
from testing.project import REPO

STACK = """\
project: shop
namespace: shop
network: shop-net
images:
  prefix: shop
  service_build: {context: app, dockerfile: docker/Dockerfile}
services:
  api:
    command: [node, api.js]
    ports: [{name: http, port: 8000}]
    health: {port: 8000, path: /health}
    uses: [postgres, memcached, nats]
    resources: &res
      requests: {cpu: 100m, memory: 64Mi}
      limits: {cpu: 500m, memory: 256Mi}
  worker:
    command: [node, worker.js]
    health: {port: 8001, path: /health}
    uses: [postgres, nats]
    resources: *res
  migrate:
    kind: job
    command: [node, migrate.js]
    uses: [postgres]
    resources: *res
databases:
  postgres: {image: "postgres:16", port: 5432, env_var: DATABASE_HOST}
  memcached: {image: "memcached:1.6", port: 11211, env_var: CACHE_HOST}
  nats: {image: "nats:2.10", port: 4222, env_var: NATS_HOST}
"""


QA = """\
runtime: kubernetes
placement: {postgres: external, memcached: external, nats: external}
endpoints:
  postgres: pg.qa.example.com:5432
  memcached: cache.qa.example.com:11211
  nats: nats.qa.example.com:4222
cloud:
  region: eu-central-1
  cluster_name: shop-qa
  registry: 210987654321.dkr.ecr.eu-central-1.amazonaws.com
  vpc_cidr: 10.40.0.0/16
  node_instance_types: [t3.medium]
  node_count: {min: 1, max: 2, desired: 1}
  state: {bucket: shop-tfstate-qa, lock_table: shop-tflock-qa}
  cluster_version: "1.33"
  endpoint_public_cidrs: [198.51.100.0/24]
  access: {admins: ["arn:aws:iam::210987654321:role/ops"]}
  github: {repository: example-org/shop}
  create_shared: true
"""


# The same stack, with a Redis placed on the redis-cloud module: that module and nothing of Atlas.
CACHE_DB = '  cache: {image: "redis:7.2", port: 6379, env_var: REDIS_URL}\n'


QA_CACHE = (
    QA.replace("nats: external}", "nats: external, cache: external}").replace(
        "  nats: nats.qa.example.com:4222\n",
        "  nats: nats.qa.example.com:4222\n  cache: r.qa.example.com:6379\n",
    )
    + "  databases:\n    cache: {module: redis-cloud, deployment_cidr: 192.168.40.0/24}\n"
    + "    postgres: {module: external}\n"
)


CORE_MODULES = {"networking", "eks", "ecr", "github-oidc", "secrets-manager"}


def _project(root: Path, stack: str, env_text: str, env: str = "qa") -> Path:
    (root / "environments").mkdir(parents=True)
    (root / "environments" / "stack.yaml").write_text(stack, encoding="utf-8")
    (root / "environments" / f"{env}.yaml").write_text(env_text, encoding="utf-8")
    (root / "app").mkdir()
    (root / "docker").mkdir()
    (root / "docker" / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    # The modules are the tool's own; only the environment roots are rendered per stack.
    shutil.copytree(REPO / "terraform" / "modules", root / "terraform" / "modules")
    return root


def _render(root: Path, env: str = "qa") -> Path:
    writer.write_all(templates.texts(render.terraform(config.load(env, root))), root)
    return root / "terraform" / "environments" / env


def _plan_variables(env_dir: Path, work: Path, **tfvars_override: str) -> tools.Result:
    """`terraform plan` of the rendered variables.tf with the rendered terraform.tfvars: every
    variable's type and validation is evaluated by Terraform itself, with no provider."""
    work.mkdir()
    shutil.copy2(env_dir / "variables.tf", work / "variables.tf")
    tfvars = (env_dir / "terraform.tfvars").read_text(encoding="utf-8")
    for name, value in tfvars_override.items():
        tfvars = re.sub(rf"(?m)^{name}\s*=.*$", f"{name} = {value}", tfvars)
    (work / "terraform.tfvars").write_text(tfvars, encoding="utf-8")
    given = set(tfcheck.load_file(work / "terraform.tfvars"))
    # Operator inputs (TF_VAR_<name>, secrets among them) get placeholders: only the rendered
    # ones matter here.
    operator = {
        f"TF_VAR_{name}": "placeholder-value"
        for name, body in tfcheck.blocks(work / "variables.tf", "variable").items()
        if name not in given and "default" not in body
    }
    data = {"TF_DATA_DIR": str(work / ".terraform"), **operator}
    tools.terraform("init", "-backend=false", "-input=false", "-no-color", cwd=work, env=data)
    return tools.terraform(
        "plan", "-input=false", "-no-color", "-refresh=false", cwd=work, env=data, check=False
    )


@pytest.fixture
def qa(tmp_path: Path) -> Path:
    return _render(_project(tmp_path / "shop", STACK, QA))


def test_a_stack_without_atlas_or_redis_renders_neither(qa: Path) -> None:
    calls = tfcheck.blocks(qa / "main.tf", "module")
    assert {Path(c["source"]).name for c in calls.values()} == CORE_MODULES
    assert set(tfcheck.required_providers(qa)) == {"aws", "tls"}
    assert not tfcheck.load_file(qa / "main.tf").get("provider", [{}])[0].keys() - {"aws"}
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(qa.iterdir()))
    for word in ("mongo", "atlas", "redis", "srvthreds"):
        assert word not in text.lower(), f"the qa roots mention {word!r}"
    tfvars = tfcheck.load_file(qa / "terraform.tfvars")
    assert tfvars["environment"] == "qa" and tfvars["project"] == "shop" and tfvars["protected"] is False
    assert tfvars["ecr_repositories"] == ["shop/api", "shop/migrate", "shop/worker"]


def test_the_qa_roots_pass_the_structural_checks_and_fmt(qa: Path) -> None:
    terraform = qa.parent.parent
    problems, checked = tfcheck.all_problems(terraform)
    assert not problems and checked == len(tfcheck.module_dirs(terraform)) + 1, problems
    _assert_fmt_clean(qa)


def _assert_fmt_clean(env_dir: Path) -> None:
    result = tools.terraform(
        "fmt", "-check", "-recursive", "-list=true", "-no-color", str(env_dir), cwd=env_dir, check=False
    )
    assert result.code == 0, result.stdout + result.stderr


def test_terraform_accepts_the_environment_name_qa(qa: Path, tmp_path: Path) -> None:
    result = _plan_variables(qa, tmp_path / "plan")
    assert result.code == 0, result.stdout + result.stderr
    assert "No changes" in result.stdout
    # The same check refuses a name that is not a DNS label: the validation is still there.
    bad = _plan_variables(qa, tmp_path / "bad", environment='"QA_1"')
    assert bad.code != 0 and "The `environment` must be 1 to 63 lowercase letters" in bad.stdout + bad.stderr


def test_a_chosen_module_brings_only_its_own_provider_and_variables(tmp_path: Path) -> None:
    root = _project(tmp_path / "shop", STACK + CACHE_DB, QA_CACHE)
    env_dir = _render(root)
    calls = tfcheck.blocks(env_dir / "main.tf", "module")
    assert {Path(c["source"]).name for c in calls.values()} == CORE_MODULES | {"redis-cloud"}
    assert set(tfcheck.required_providers(env_dir)) == {"aws", "tls", "rediscloud"}
    tfvars = tfcheck.load_file(env_dir / "terraform.tfvars")
    # The database name defaults to the project's, never to a name the tool knows.
    assert tfvars["redis_database_name"] == "shop" and tfvars["redis_deployment_cidr"] == "192.168.40.0/24"
    assert "mongo" not in "".join(p.read_text(encoding="utf-8") for p in env_dir.iterdir()).lower()
    problems, _ = tfcheck.all_problems(env_dir.parent.parent)
    assert not problems, problems
    _assert_fmt_clean(env_dir)
    result = _plan_variables(env_dir, tmp_path / "plan")
    assert result.code == 0, result.stdout + result.stderr


def test_postgres_on_rds(tmp_path: Path) -> None:
    """rds-postgres needs only the AWS provider and no secret: RDS keeps the password."""
    qa = QA + "  databases:\n    postgres: {module: rds-postgres, instance_class: db.t4g.micro}\n"
    root = _project(tmp_path / "shop", STACK.replace("project: shop", "project: my-shop"), qa)
    env_dir = _render(root)
    calls = tfcheck.blocks(env_dir / "main.tf", "module")
    assert {Path(c["source"]).name for c in calls.values()} == CORE_MODULES | {"rds-postgres"}
    assert (
        calls["rds_postgres"]["deletion_protection"]
        == calls["rds_postgres"]["multi_az"]
        == "${var.protected}"
    )
    assert set(tfcheck.required_providers(env_dir)) == {"aws", "tls"}
    tfvars = tfcheck.load_file(env_dir / "terraform.tfvars")
    # Defaults: the project's name as PostgreSQL accepts names (no '-').
    assert tfvars["postgres_username"] == tfvars["postgres_database_name"] == "my_shop"
    assert tfvars["postgres_instance_class"] == "db.t4g.micro" and tfvars["postgres_storage_gb"] == 20
    assert not [
        n for n in tfcheck.blocks(env_dir / "variables.tf", "variable") if tfcheck.SECRET_NAME.search(n)
    ]
    problems, _ = tfcheck.all_problems(env_dir.parent.parent)
    assert not problems, problems
    _assert_fmt_clean(env_dir)
    result = _plan_variables(env_dir, tmp_path / "plan")
    assert result.code == 0, result.stdout + result.stderr


def test_a_default_name_the_module_refuses_is_named_with_its_key(tmp_path: Path) -> None:
    long = "a" * 45  # a valid project (DNS label), too long for a Redis Cloud database name
    root = _project(
        tmp_path / "shop", STACK.replace("project: shop", f"project: {long}") + CACHE_DB, QA_CACHE
    )
    with pytest.raises(ConfigError) as caught:
        config.load("qa", root)
    err = caught.value
    assert (err.file, err.keypath) == ("environments/qa.yaml", "cloud.databases.cache")
    assert f"the default {long!r} (from the project name) is not" in err.problem
    assert "set `database_name:` under cloud.databases.cache" in err.render()


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_demo_tfvars_pass_terraform_variable_validation(env: str, tmp_path: Path) -> None:
    """The committed demo roots, through the same Terraform check."""
    result = _plan_variables(REPO / "terraform" / "environments" / env, tmp_path / "plan")
    assert result.code == 0, result.stdout + result.stderr


def demo_names_in(text: str) -> list[str]:
    """The demo's project name anywhere; its service names inside a string or a `code` span
    (as values, never as HCL keys: `engine` is an RDS argument, `bootstrap_...` an EKS one)."""
    found = re.findall(r"srvthreds", text, re.IGNORECASE)
    services = re.compile(r"(?<![\w-])(session-agent|persistence-agent|engine|bootstrap)(?![\w-])")
    for literal in re.findall(r'"(?:[^"\\\n]|\\.)*"|`[^`\n]*`', text):
        found += services.findall(literal)
    return found


def test_the_demo_name_guard_finds_names() -> None:
    assert demo_names_in('repositories = ["myapp/engine"]\n# SrvThreds') == ["SrvThreds", "engine"]
    assert demo_names_in('engine = "postgres"\nbootstrap_cluster_creator_admin_permissions = false') == []
    assert demo_names_in("for example `bootstrap`") == ["bootstrap"]


def test_no_demo_name_in_the_terraform_templates_or_modules() -> None:
    files = [
        p
        for top in (REPO / "templates" / "terraform", REPO / "terraform" / "modules")
        for p in sorted(top.rglob("*"))
        if p.is_file()
    ]
    assert files
    hits = [
        f"{p.relative_to(REPO)}:{i}: {line.strip()}"
        for p in files
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if demo_names_in(line)
    ]
    assert not hits, "\n".join(hits)


def test_the_environment_name_is_never_listed_in_templates() -> None:
    text = "".join(
        p.read_text(encoding="utf-8") for p in sorted((REPO / "templates" / "terraform").rglob("*.j2"))
    )
    assert not re.search(r'"(dev|staging|prod)"', text), "a template names a fixed environment"
