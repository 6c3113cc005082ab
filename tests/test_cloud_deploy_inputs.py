"""A first deploy works from the repository: the cloud block of environments/<env>.yaml is
checked against the stack, and rendered into the Terraform inputs the new modules need."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tasks.checks import tfcheck
from tasks.cli.resolve import resolve
from tasks.config import load as config
from tasks.errors import ConfigError
from tasks.families import cloud as cloud_tasks
from tasks.render import files as render
from tasks.store import images
from testing.configs import edit, error, line_of


def test_cluster_version_must_match_kubernetes_version(project: Path) -> None:
    edit(project, "staging.yaml", 'cluster_version: "1.33"', 'cluster_version: "1.31"')
    problem = error(project, "staging")
    assert problem.file == "environments/staging.yaml" and problem.keypath == "cloud.cluster_version"
    assert problem.line == line_of(project, "staging.yaml", "cluster_version:")
    assert (
        "EKS runs Kubernetes 1.31, but the manifests are validated against kubernetes_version 1.33.0"
        in str(problem)
    )
    assert 'set `cluster_version: "1.33"`' in str(problem.fix)


def test_public_endpoint_refuses_the_whole_internet(project: Path) -> None:
    edit(project, "dev.yaml", "endpoint_public_cidrs: [203.0.113.0/24]", "endpoint_public_cidrs: [0.0.0.0/0]")
    problem = error(project, "dev")
    assert (
        problem.keypath.startswith("cloud.endpoint_public_cidrs") and problem.file == "environments/dev.yaml"
    )
    assert "opens the Kubernetes API to the whole internet" in str(problem)


def test_public_endpoint_needs_cidrs(project: Path) -> None:
    edit(project, "dev.yaml", "  endpoint_public_cidrs: [203.0.113.0/24]\n", "")
    problem = error(project, "dev")
    assert "the public Kubernetes API endpoint has no allowed CIDR blocks" in str(problem)
    assert "endpoint_private: true" in str(problem.fix)


def test_access_entries_need_iam_arns(project: Path) -> None:
    edit(project, "prod.yaml", "admins: [arn:aws:iam::123456789012:role/platform-admin]", "admins: [alice]")
    assert "is not an IAM role or user ARN" in str(error(project, "prod"))


def test_ecr_repositories_are_the_images_the_cluster_runs(project: Path) -> None:
    cfg = config.load("dev", project)
    repos = sorted(set(images.pushed(cfg).values()))
    assert repos == sorted(cfg.image_ref(s) for s in cfg.services)
    assert f"{cfg.images.prefix}/builder" not in repos  # the builder is never pushed
    rendered = render.terraform(cfg)["terraform/environments/dev/terraform.tfvars"]
    tfvars = tfcheck.loads(rendered() if callable(rendered) else rendered)
    assert tfvars["ecr_repositories"] == repos
    assert tfvars["cluster_version"] == "1.33" and tfvars["create_shared"] is True
    assert tfvars["admin_arns"] == ["arn:aws:iam::123456789012:role/platform-admin"]
    assert tfvars["reader_arns"] == ["arn:aws:iam::123456789012:role/developer"]
    assert tfvars["endpoint_public_access_cidrs"] == ["203.0.113.0/24"]
    assert tfvars["github_repository"] == "example-org/srvthreds"


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_committed_tfvars_never_open_the_endpoint_to_everyone(env: str) -> None:
    root = Path(__file__).resolve().parent.parent
    tfvars = tfcheck.load_file(root / f"terraform/environments/{env}/terraform.tfvars")
    assert all(not c.endswith("/0") for c in tfvars["endpoint_public_access_cidrs"])
    assert tfvars["endpoint_private"] is True or tfvars["endpoint_public_access_cidrs"]
    assert (env == "prod") == tfvars["endpoint_private"]


def test_eks_module_takes_access_entries_and_no_vpc_id() -> None:
    root = Path(__file__).resolve().parent.parent
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
    root = Path(__file__).resolve().parent.parent / "terraform"
    for name in ("ecr", "github-oidc"):
        module = root / "modules" / name
        assert tfcheck.missing_files(module, tfcheck.STANDARD_FILES) == []
        assert tfcheck.variable_problems(module) == []
        assert tfcheck.version_problems(module, root_module=False) == []
    for env in ("dev", "staging", "prod"):
        assert tfcheck.module_call_problems(root / "environments" / env) == []


def test_github_oidc_trust_is_one_repository_and_environment() -> None:
    root = Path(__file__).resolve().parent.parent
    main = (root / "terraform/modules/github-oidc/main.tf").read_text()
    assert re.search(
        r'subject\s+= "repo:\$\{var.repository\}:environment:\$\{var.github_environment\}"', main
    )
    assert '"${local.issuer}:aud"' in main and '"${local.issuer}:sub"' in main
    assert main.count('test     = "StringEquals"') == 2  # never StringLike with a wildcard
    env_main = (root / "terraform/environments/dev/main.tf").read_text()
    assert "github_environment  = var.environment" in env_main


def test_push_never_pushes_the_builder(project: Path) -> None:
    # push:dev's inputs are the refs of what the cluster runs: the builder is not one of them.
    tasks = list(cloud_tasks.task_push(resolve(["list"], project)))
    dev = next(t for t in tasks if t.get("name") == "dev")
    assert sorted(Path(p).stem for p in dev["file_dep"]) == [
        "bootstrap",
        "engine",
        "persistence-agent",
        "session-agent",
    ]


def test_cluster_version_error_is_a_config_error(project: Path) -> None:
    edit(project, "prod.yaml", 'cluster_version: "1.33"', 'cluster_version: "133"')
    assert isinstance(error(project, "prod"), ConfigError)
