"""tasks/checks/tfcheck.py: the structural checks of terraform/, each on a small tree that breaks exactly
one rule. Each test asserts the whole list of problems, so a check that stops reporting, or reports
what is fine, fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tasks.checks import tfcheck

VERSIONS = (
    'terraform {\n  required_version = ">= 1.6.0"\n  required_providers {\n    tls = {\n'
    '      source  = "hashicorp/tls"\n      version = ">= 4.0"\n    }\n  }\n}\n'
)


VARIABLE = 'variable "algorithm" {\n  type        = string\n  description = "Key algorithm."\n}\n'


TREE = {
    "modules/key/README.md": "# key\n",
    "modules/key/main.tf": 'resource "tls_private_key" "k" {\n  algorithm = var.algorithm\n}\n',
    "modules/key/outputs.tf": 'output "pem" {\n  value = tls_private_key.k.public_key_pem\n}\n',
    "modules/key/variables.tf": VARIABLE,
    "modules/key/versions.tf": VERSIONS,
    "environments/dev/backend.hcl": "# local state\n",
    "environments/dev/main.tf": (
        'module "key" {\n  source    = "../../modules/key"\n  algorithm = var.algorithm\n}\n'
    ),
    "environments/dev/outputs.tf": 'output "pem" {\n  value = module.key.pem\n}\n',
    "environments/dev/terraform.tfvars": 'algorithm = "ED25519"\n',
    "environments/dev/variables.tf": VARIABLE,
    "environments/dev/versions.tf": VERSIONS,
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "terraform"
    for name, text in TREE.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_clean_tree_has_no_problems(tree: Path) -> None:
    assert tfcheck.all_problems(tree) == ([], 2)


def test_strings_lose_their_quotes_even_when_empty() -> None:
    assert tfcheck.loads('x = ""\ny = "a"\nz = 1\n') == {"x": "", "y": "a", "z": 1}
    assert tfcheck.loads('variable "v" {\n  type = string\n}\n') == {"variable": [{"v": {"type": "string"}}]}
    assert tfcheck.norm(['"q"', '"', "plain"]) == ["q", '"', "plain"]


def test_a_block_declared_twice_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "a.tf", VARIABLE)
    write(tmp_path / "b.tf", VARIABLE)
    with pytest.raises(ValueError, match="variable 'algorithm' is declared twice"):
        tfcheck.blocks(tmp_path, "variable")
    assert list(tfcheck.blocks(tmp_path / "a.tf", "variable")) == ["algorithm"]


def test_versions_tf_holds_exactly_one_terraform_block(tmp_path: Path) -> None:
    write(tmp_path / "versions.tf", VERSIONS + 'terraform {\n  required_version = ">= 1.6.0"\n}\n')
    with pytest.raises(ValueError, match="must hold exactly one terraform block"):
        tfcheck.terraform_block(tmp_path)
    write(tmp_path / "versions.tf", "locals {\n  x = 1\n}\n")
    with pytest.raises(ValueError, match="must hold exactly one terraform block"):
        tfcheck.terraform_block(tmp_path)


def test_used_providers_come_from_resources_data_and_provider_blocks(tmp_path: Path) -> None:
    write(
        tmp_path / "main.tf",
        'resource "aws_s3_bucket" "b" {}\nresource "terraform_data" "t" {}\n'
        'data "tls_certificate" "c" {\n  url = "https://x"\n}\n'
        'provider "mongodbatlas" {}\n',
    )
    write(tmp_path / "notes.txt", 'resource "rediscloud_x" "y" {}\n')
    assert tfcheck.used_providers(tmp_path) == {"aws", "tls", "mongodbatlas"}


def test_missing_standard_files_stop_the_other_checks(tree: Path) -> None:
    (tree / "modules/key/README.md").unlink()
    (tree / "environments/dev/backend.hcl").unlink()
    (tree / "environments/dev/variables.tf").write_text("broken {\n")
    problems, count = tfcheck.all_problems(tree)
    assert count == 2
    assert problems == [
        f"{tree / 'modules/key'}: lacks README.md",
        f"{tree / 'environments/dev'}: lacks backend.hcl",
    ]


def test_a_file_that_does_not_parse_is_one_problem(tree: Path) -> None:
    (tree / "environments/dev/variables.tf").write_text("broken {\n")
    problems, _ = tfcheck.all_problems(tree)
    assert len(problems) == 1
    assert problems[0].startswith(f"{tree / 'environments/dev'}: cannot be checked: UnexpectedToken: ")
    assert "\n" not in problems[0]


def test_a_check_that_fails_without_a_message_is_still_named(tmp_path: Path) -> None:
    def boom(directory: Path) -> list[str]:
        raise KeyError()

    assert tfcheck.guarded(tmp_path, boom) == [f"{tmp_path}: cannot be checked: KeyError: "]


def variable_problems(tmp_path: Path, text: str) -> list[str]:
    write(tmp_path / "variables.tf", text)
    return [p.removeprefix(f"{tmp_path}: ") for p in tfcheck.variable_problems(tmp_path)]


def test_variable_rules_one_by_one(tmp_path: Path) -> None:
    assert variable_problems(tmp_path, "# none\n") == ["declares no variables"]
    assert variable_problems(tmp_path, 'variable "a" {\n  description = "A."\n}\n') == [
        "variable a has no type"
    ]
    assert variable_problems(tmp_path, 'variable "a" {\n  type = string\n  description = "  "\n}\n') == [
        "variable a has no description"
    ]
    secret = 'variable "api_token" {\n  type = string\n  description = "T."\n'
    assert variable_problems(tmp_path, secret + "  sensitive = true\n}\n") == []
    assert variable_problems(tmp_path, secret + '  sensitive = "true"\n}\n') == [
        "variable api_token must be sensitive = true"
    ]
    assert variable_problems(tmp_path, secret + '  sensitive = true\n  default = ""\n}\n') == [
        "secret variable api_token must not have a default"
    ]
    # A name that is not a secret may have a default and need not be sensitive.
    assert (
        variable_problems(
            tmp_path, 'variable "size" {\n  type = number\n  description = "S."\n  default = 1\n}\n'
        )
        == []
    )


def validation(condition: str, message: str) -> str:
    return (
        'variable "size" {\n  type = number\n  description = "S."\n'
        f'  validation {{\n    condition     = {condition}\n    error_message = "{message}"\n  }}\n}}\n'
    )


def test_validation_rules_one_by_one(tmp_path: Path) -> None:
    assert variable_problems(tmp_path, validation("var.size > 0", "`size` must be positive.")) == []
    assert variable_problems(tmp_path, validation("local.x > 0", "`size` must be positive.")) == [
        "validation of size does not test var.size"
    ]
    assert variable_problems(tmp_path, validation("var.size > var.min", "`size` must be positive.")) == [
        "validation of size references ['min']"
    ]
    assert variable_problems(tmp_path, validation("var.size > 0", "`size` must be positive")) == [
        "error_message of size is not a sentence: '`size` must be positive'"
    ]
    assert variable_problems(tmp_path, validation("var.size > 0", "size must be positive.")) == [
        "error_message of size names no variable"
    ]


def test_module_inputs_declared_and_required(tmp_path: Path) -> None:
    write(
        tmp_path / "variables.tf",
        VARIABLE + 'variable "bits" {\n  type = number\n  description = "B."\n  default = 256\n}\n',
    )
    assert tfcheck.module_inputs(tmp_path) == ({"algorithm", "bits"}, {"algorithm"})


def call_problems(tree: Path, body: str) -> list[str]:
    env = tree / "environments/dev"
    (env / "main.tf").write_text(f'module "key" {{\n{body}}}\n')
    return [p.removeprefix(f"{env}: ") for p in tfcheck.module_call_problems(env)]


def test_module_call_rules_one_by_one(tree: Path) -> None:
    local = '  source = "../../modules/key"\n'
    assert call_problems(tree, local + '  algorithm = "RSA"\n  depends_on = []\n  count = 1\n') == []
    assert call_problems(tree, '  source = "git::https://example.com/key"\n  bogus = 1\n') == [
        "module key must use a local ../../modules/ source"
    ]
    assert call_problems(tree, '  source = "../../modules/nothing"\n') == [
        "module key calls ../../modules/nothing, which does not exist"
    ]
    assert call_problems(tree, local) == ["module key misses required inputs ['algorithm']"]
    assert call_problems(tree, local + '  algorithm = "RSA"\n  bits = 1\n') == [
        "module key passes unknown inputs ['bits']"
    ]


def version_problems(directory: Path, versions: str, *, root: bool = False) -> list[str]:
    (directory / "versions.tf").write_text(versions)
    return [p.removeprefix(f"{directory}: ") for p in tfcheck.version_problems(directory, root_module=root)]


def test_version_rules_one_by_one(tree: Path) -> None:
    key = tree / "modules/key"
    assert version_problems(key, VERSIONS) == []
    assert version_problems(key, VERSIONS.replace(">= 1.6.0", "~> 1.6")) == [
        "required_version is not pinned (>= 1.x)"
    ]
    assert version_problems(key, VERSIONS.replace("hashicorp/tls", "someone/tls")) == [
        "provider tls has source 'someone/tls'"
    ]
    assert version_problems(key, VERSIONS.replace(">= 4.0", "4")) == ["provider tls has no minimum version"]
    bare = 'terraform {\n  required_version = ">= 1.6.0"\n}\n'
    assert version_problems(key, bare) == ["providers used but not in required_providers: ['tls']"]
    (key / "main.tf").write_text('resource "terraform_data" "x" {}\n')
    assert version_problems(key, bare) == ["uses no provider"]


def test_a_root_module_pins_what_its_modules_need(tree: Path) -> None:
    env = tree / "environments/dev"
    bare = 'terraform {\n  required_version = ">= 1.6.0"\n}\n'
    assert version_problems(env, bare, root=True) == ["providers used but not in required_providers: ['tls']"]
    assert version_problems(env, bare, root=False) == ["uses no provider"]


def tfvars_problems(tree: Path, tfvars: str, variables: str = VARIABLE) -> list[str]:
    env = tree / "environments/dev"
    (env / "terraform.tfvars").write_text(tfvars)
    (env / "variables.tf").write_text(variables)
    return [p.removeprefix(f"{env}: ") for p in tfcheck.tfvars_problems(env)]


def test_tfvars_rules_one_by_one(tree: Path) -> None:
    assert tfvars_problems(tree, 'algorithm = "RSA"\n') == []
    assert tfvars_problems(tree, 'algorithm = "RSA"\nzeta = 1\nalpha = 2\n') == [
        "terraform.tfvars sets undeclared variable alpha",
        "terraform.tfvars sets undeclared variable zeta",
    ]
    assert tfvars_problems(tree, "") == [
        "required variable algorithm is neither rendered nor documented as TF_VAR_algorithm"
    ]
    documented = 'variable "algorithm" {\n  type = string\n  description = "Set TF_VAR_algorithm."\n}\n'
    assert tfvars_problems(tree, "", documented) == []
    defaulted = 'variable "algorithm" {\n  type = string\n  description = "A."\n  default = "RSA"\n}\n'
    assert tfvars_problems(tree, "", defaulted) == []


def test_an_environment_is_checked_by_every_rule(tree: Path) -> None:
    env = tree / "environments/dev"
    (env / "terraform.tfvars").write_text('algorithm = "RSA"\nextra = 1\n')
    (env / "main.tf").write_text('module "key" {\n  source = "../../modules/key"\n}\n')
    (env / "variables.tf").write_text(VARIABLE + 'variable "x" {\n  type = string\n}\n')
    (env / "versions.tf").write_text('terraform {\n  required_version = ">= 1.6.0"\n}\n')
    problems, count = tfcheck.all_problems(tree)
    assert count == 2
    assert [p.removeprefix(f"{env}: ") for p in problems] == [
        "variable x has no description",
        "module key misses required inputs ['algorithm']",
        "providers used but not in required_providers: ['tls']",
        "terraform.tfvars sets undeclared variable extra",
        "required variable x is neither rendered nor documented as TF_VAR_x",
    ]


def test_a_module_is_checked_by_its_rules(tree: Path) -> None:
    key = tree / "modules/key"
    (key / "variables.tf").write_text('variable "x" {\n  type = string\n}\n')
    (key / "versions.tf").write_text('terraform {\n  required_version = ">= 1.6.0"\n}\n')
    problems, _ = tfcheck.all_problems(tree)
    assert [p.removeprefix(f"{key}: ") for p in problems if p.startswith(f"{key}: ")] == [
        "variable x has no description",
        "providers used but not in required_providers: ['tls']",
    ]


def test_directories_are_listed_in_order_and_files_skipped(tree: Path) -> None:
    write(tree / "modules/README.md", "# modules\n")
    (tree / "modules/aaa").mkdir()
    assert [p.name for p in tfcheck.module_dirs(tree)] == ["aaa", "key"]
    write(tree / "environments/notes.txt", "x\n")
    assert [p.name for p in tfcheck.environment_dirs(tree)] == ["dev"]


def test_variable_checks_catch_problems(tmp_path: Path) -> None:
    (tmp_path / "variables.tf").write_text(
        'variable "a" {\n  type = string\n}\n'
        'variable "db_password" {\n  type        = string\n  description = "x"\n  default     = "y"\n}\n'
        'variable "b" {\n  type        = number\n  description = "b"\n'
        '  validation {\n    condition     = var.b > var.c\n    error_message = "no"\n  }\n}\n',
        encoding="utf-8",
    )
    problems = "\n".join(tfcheck.variable_problems(tmp_path))
    for expected in (
        "variable a has no description",
        "db_password must be sensitive",
        "secret variable db_password must not have a default",
        "validation of b references ['c']",
        "error_message of b is not a sentence",
    ):
        assert expected in problems


# --------------------------------------------------------------------------- recorded per directory


def test_checked_takes_passed_directories_from_the_record_until_their_files_change(tree: Path) -> None:
    first = tfcheck.checked(tree, {})
    assert (first.problems, first.checked, first.reused) == ([], 2, 0)
    assert sorted(first.passed) == [f"{tree}/environments/dev", f"{tree}/modules/key"]
    again = tfcheck.checked(tree, first.passed)
    assert (again.checked, again.reused, again.passed) == (2, 2, first.passed)
    # The root's own file changed: only the root is judged again.
    (tree / "environments/dev/outputs.tf").write_text('output "pem" {\n  value = module.key.pem\n}\n# x\n')
    root_changed = tfcheck.checked(tree, first.passed)
    assert (root_changed.reused, root_changed.problems) == (1, [])
    # A module changed: the module and every root (which calls modules) are judged again, and a
    # problem is found though both passed before.
    (tree / "modules/key/variables.tf").write_text('variable "algorithm" {\n  type = string\n}\n')
    broken = tfcheck.checked(tree, root_changed.passed)
    assert broken.reused == 0
    assert broken.problems == [f"{tree}/modules/key: variable algorithm has no description"]
    assert list(broken.passed) == [f"{tree}/environments/dev"]  # a failing directory is not recorded


def test_checked_ignores_a_record_made_for_other_contents(tree: Path) -> None:
    stale = {f"{tree}/modules/key": "0" * 64, f"{tree}/environments/dev": "0" * 64}
    assert tfcheck.checked(tree, stale).reused == 0


def test_a_file_is_parsed_once_per_content(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real = tfcheck.loads

    def loads(text: str) -> dict[str, Any]:
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(tfcheck, "loads", loads)
    path = tree / "modules/key/variables.tf"
    path.write_text(VARIABLE + "# parsed once\n")
    assert tfcheck.load_file(path) == tfcheck.load_file(path)
    assert len(parsed) == 1
    path.write_text(VARIABLE + "# parsed once, then changed\n")
    assert tfcheck.load_file(path)["variable"][0]["algorithm"]["type"] == "string"
    assert len(parsed) == 2
