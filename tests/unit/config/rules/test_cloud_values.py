"""Cloud values Terraform or AWS would refuse late (tasks/config/rules/cloud_values.py), each
refused at load time, and each rule checked against the Terraform validation it mirrors: the
refused value is rendered and the embedded Terraform validates it offline (testing/tfprobe.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tasks.config import build
from tasks.config import load as loader
from tasks.config.merged import Merged
from tasks.config.rules import cloud_values as rules
from tasks.errors import ConfigError
from tasks.render import files as render
from tasks.render import templates
from testing.configs import CLOUD, broken, cloud_env, load, read, small_project, stack, write
from testing.tfprobe import probe

REDIS = {"pg": {"module": "redis-cloud", "deployment_cidr": "192.168.10.0/24"}}
RDS = {"pg": {"module": "rds-postgres", "instance_class": "db.t4g.micro"}}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "project").mkdir()
    return small_project(tmp_path / "project")


def named(root: Path, env: str, data: dict[str, Any], project: str = "shop", image: str = "") -> Merged:
    """environments/<env>.yaml (and the stack with `project`, its database `pg` running
    `image` when given), merged."""
    small = stack()
    small["project"] = project
    if image:
        small["databases"]["pg"]["image"] = image
    write(root, "stack.yaml", small)
    write(root, f"{env}.yaml", data)
    return loader.read(env, root)


def refused(rule: Any, merged: Merged) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        rule(merged)
    return info.value


# --- each rule alone --------------------------------------------------------------------


def test_vpc_is_a_size_the_networking_module_takes(root: Path) -> None:
    err = broken(
        rules.vpc_is_a_size_the_networking_module_takes, root, None, cloud_env(vpc_cidr="10.0.0.0/8")
    )
    assert (err.file, err.keypath, err.problem, err.fix) == (
        "environments/test.yaml",
        "cloud.vpc_cidr",
        "a /8 VPC is not what the networking module takes (/16 to /24)",
        "use a /16 to /24 block, e.g. 10.0.0.0/16",
    )
    for fine in ("10.0.0.0/16", "10.0.0.0/24"):
        rules.vpc_is_a_size_the_networking_module_takes(read(root, None, cloud_env(vpc_cidr=fine)))
    small = broken(
        rules.vpc_is_a_size_the_networking_module_takes, root, None, cloud_env(vpc_cidr="10.0.0.0/25")
    )
    assert small.problem.startswith("a /25 VPC")


def test_a_node_group_has_room_for_a_node(root: Path) -> None:
    zero = {"min": 0, "max": 0, "desired": 0}
    err = broken(rules.a_node_group_has_room_for_a_node, root, None, cloud_env(node_count=zero))
    assert (err.keypath, err.fix) == ("cloud.node_count.max", "set max to 1 or more (min may stay 0)")
    assert "node_count.max is 0" in err.problem
    scale_to_zero = {"min": 0, "max": 1, "desired": 0}
    rules.a_node_group_has_room_for_a_node(read(root, None, cloud_env(node_count=scale_to_zero)))


def test_node_instance_types_are_listed(root: Path) -> None:
    err = broken(rules.node_instance_types_are_listed, root, None, cloud_env(node_instance_types=[]))
    assert (err.keypath, err.problem) == (
        "cloud.node_instance_types",
        "no instance types: EKS cannot make a node group without one",
    )


def test_cluster_admins_are_listed(root: Path) -> None:
    err = broken(rules.cluster_admins_are_listed, root, None, cloud_env(access={"admins": []}))
    assert err.keypath == "cloud.access.admins"
    assert err.problem.startswith("no cluster admins")


def test_cluster_access_names_iam_roles_or_users(root: Path) -> None:
    sts = "arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com"
    err = broken(
        rules.cluster_access_names_iam_roles_or_users, root, None, cloud_env(access={"admins": [sts]})
    )
    assert (err.keypath, err.fix) == (
        "cloud.access.admins[0]",
        "write the role itself: arn:aws:iam::123456789012:role/Admin",
    )
    assert (
        err.problem == f"{sts!r} is an STS session, not an IAM role or user (EKS access entries take those)"
    )
    admin = CLOUD["access"]["admins"][0]
    reader = broken(
        rules.cluster_access_names_iam_roles_or_users,
        root,
        None,
        cloud_env(access={"admins": [admin], "readers": [admin, "arn:aws:sts::123456789012:role/bob"]}),
    )
    assert reader.keypath == "cloud.access.readers[1]"
    assert reader.fix == "write it like arn:aws:iam::123456789012:role/Admin"
    user = "arn:aws:iam::123456789012:user/ci"
    rules.cluster_access_names_iam_roles_or_users(
        read(root, None, cloud_env(access={"admins": [admin, user]}))
    )


def test_the_registry_is_ecr(root: Path) -> None:
    err = broken(rules.the_registry_is_ecr, root, None, cloud_env(registry="ghcr.io/acme"))
    assert (err.keypath, err.problem, err.fix) == (
        "cloud.registry",
        "'ghcr.io/acme' is not an ECR registry (the roots create ECR repositories)",
        "write <12-digit account>.dkr.ecr.us-west-2.amazonaws.com",
    )


def test_the_registry_is_in_the_region(root: Path) -> None:
    other = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    err = broken(rules.the_registry_is_in_the_region, root, None, cloud_env(registry=other))
    assert err.keypath == "cloud.registry"
    assert err.problem.startswith("the registry is in eu-west-1, but region is us-west-2")
    assert err.fix == "use 123456789012.dkr.ecr.us-west-2.amazonaws.com, or change region"
    # Not ECR at all is the other rule's to say.
    rules.the_registry_is_in_the_region(read(root, None, cloud_env(registry="ghcr.io/acme")))


def test_the_project_name_fits_the_roots(root: Path) -> None:
    long = "a" * 25
    err = refused(rules.the_project_name_fits_the_roots, named(root, "dev", cloud_env(), project=long))
    assert (err.file, err.keypath) == ("environments/stack.yaml", "project")
    assert err.problem.startswith(f"project {long!r} is 25 characters")
    rules.the_project_name_fits_the_roots(named(root, "dev", cloud_env(), project="a" * 24))
    # Only a cloud environment's Terraform takes it: a local one does not care.
    rules.the_project_name_fits_the_roots(
        named(root, "dev", {"runtime": "compose", "placement": {"pg": "compose"}}, project=long)
    )


def test_names_made_from_project_and_environment_fit(root: Path) -> None:
    env = "e" * 36  # shop-eee...: 41 characters, one more than Redis Cloud takes
    redis = refused(
        rules.names_made_from_project_and_environment_fit, named(root, env, cloud_env(databases=REDIS))
    )
    assert (redis.file, redis.keypath) == (f"environments/{env}.yaml", "cloud.databases.pg.module")
    assert redis.problem == (
        f"the redis-cloud subscription_name made from the project and environment names, 'shop-{env}', "
        "is 41 characters; it takes at most 40"
    )
    assert redis.fix == (
        f"shorten the environment name (rename environments/{env}.yaml) or the project name by 1 characters"
    )
    # Without Redis Cloud the same name is fine; the VPC's takes 48.
    rules.names_made_from_project_and_environment_fit(named(root, env, cloud_env()))
    vpc = refused(rules.names_made_from_project_and_environment_fit, named(root, "e" * 44, cloud_env()))
    assert (vpc.keypath, vpc.problem.split(",")[0]) == (
        "cloud",
        "the networking name made from the project and environment names",
    )


def test_the_rds_user_is_not_reserved(root: Path) -> None:
    given = {"pg": {**RDS["pg"], "username": "Admin"}}
    err = broken(rules.the_rds_user_is_not_reserved, root, None, cloud_env(databases=given))
    assert (err.keypath, err.fix) == (
        "cloud.databases.pg.username",
        "change `username:` under cloud.databases.pg, e.g. pg_admin",
    )
    assert (
        err.problem == "RDS for PostgreSQL refuses the master user name 'Admin': "
        "it is one of PostgreSQL's reserved words"
    )
    data = stack()
    data["project"] = "user"  # the default user name is the project's
    default = broken(rules.the_rds_user_is_not_reserved, root, data, cloud_env(databases=RDS))
    assert default.keypath == "cloud.databases.pg"
    assert default.problem.endswith("(the default, from the project name)")
    fine = {"pg": {**RDS["pg"], "username": "shop_admin"}}
    rules.the_rds_user_is_not_reserved(read(root, stack(), cloud_env(databases=fine)))


@pytest.mark.parametrize(
    ("given", "fix"),
    [
        ("acme/shop.git", "write 'acme/shop'"),
        ("acme/shop.git.git", "write 'acme/shop'"),
        ("-acme/shop", "write it like example-org/myapp"),
        ("acme/..", "write it like example-org/myapp"),
    ],
)
def test_the_github_repository_is_owner_and_name(root: Path, given: str, fix: str) -> None:
    err = broken(
        rules.the_github_repository_is_owner_and_name, root, None, cloud_env(github={"repository": given})
    )
    assert (err.keypath, err.problem, err.fix) == (
        "cloud.github.repository",
        f"{given!r} is not a GitHub repository as its tokens name it (owner/name)",
        fix,
    )


def test_github_repository_names_with_dots_pass(root: Path) -> None:
    rules.the_github_repository_is_owner_and_name(
        read(root, None, cloud_env(github={"repository": "acme/shop.api"}))
    )


def test_public_endpoint_cidrs_do_not_add_up_to_the_internet(root: Path) -> None:
    halves = ["0.0.0.0/1", "128.0.0.0/1"]
    err = broken(
        rules.public_endpoint_cidrs_do_not_add_up_to_the_internet,
        root,
        None,
        cloud_env(endpoint_public_cidrs=halves),
    )
    assert (err.keypath, err.problem) == (
        "cloud.endpoint_public_cidrs",
        "0.0.0.0/1, 128.0.0.0/1 together are the whole internet: the Kubernetes API would be open to anyone",
    )
    inside = ["10.0.0.0/8", "203.0.113.0/24", "10.1.0.0/16"]
    overlap = broken(
        rules.public_endpoint_cidrs_do_not_add_up_to_the_internet,
        root,
        None,
        cloud_env(endpoint_public_cidrs=inside),
    )
    assert (overlap.keypath, overlap.problem) == (
        "cloud.endpoint_public_cidrs[2]",
        "10.1.0.0/16 overlaps 10.0.0.0/8 (endpoint_public_cidrs[0])",
    )
    half = ["0.0.0.0/1", "203.0.113.0/24"]
    rules.public_endpoint_cidrs_do_not_add_up_to_the_internet(
        read(root, None, cloud_env(endpoint_public_cidrs=half))
    )


def test_a_valid_cloud_environment_passes_every_rule(root: Path) -> None:
    assert load(root, None, cloud_env(databases=RDS)).cloud is not None


# --- each rule against the Terraform validation it mirrors ---------------------------------------

ADMIN = CLOUD["access"]["admins"][0]
STS = "arn:aws:sts::123456789012:assumed-role/Admin/alice"
# (rule, environment name, project, cloud values the rule refuses, the twins Terraform refuses them at)
AGREEMENT: list[tuple[str, str, str, dict[str, Any], set[str]]] = [
    (
        "vpc_is_a_size_the_networking_module_takes",
        "dev",
        "shop",
        {"vpc_cidr": "10.0.0.0/8"},
        {"networking:vpc_cidr"},
    ),
    (
        "a_node_group_has_room_for_a_node",
        "dev",
        "shop",
        {"node_count": {"min": 0, "max": 0, "desired": 0}},
        {"eks:node_groups"},
    ),
    (
        "node_instance_types_are_listed",
        "dev",
        "shop",
        {"node_instance_types": []},
        {"root:node_instance_types"},
    ),
    ("cluster_admins_are_listed", "dev", "shop", {"access": {"admins": []}}, {"root:admin_arns"}),
    (
        "cluster_access_names_iam_roles_or_users",
        "dev",
        "shop",
        {"access": {"admins": [STS]}},
        {"root:admin_arns"},
    ),
    (
        "cluster_access_names_iam_roles_or_users",
        "dev",
        "shop",
        {"access": {"admins": [ADMIN], "readers": [STS]}},
        {"root:reader_arns"},
    ),
    ("the_registry_is_ecr", "dev", "shop", {"registry": "ghcr.io/acme"}, {"root:registry"}),
    ("the_project_name_fits_the_roots", "dev", "p" * 25, {}, {"root:project"}),
    (
        "names_made_from_project_and_environment_fit",
        "e" * 36,
        "shop",
        {"databases": REDIS},
        {"redis-cloud:subscription_name"},
    ),
    ("names_made_from_project_and_environment_fit", "e" * 44, "shop", {}, {"networking:name"}),
    (
        "the_rds_user_is_not_reserved",
        "dev",
        "shop",
        {"databases": {"pg": {**RDS["pg"], "username": "admin"}}},
        {"rds-postgres:username"},
    ),
    (
        "the_github_repository_is_owner_and_name",
        "dev",
        "shop",
        {"github": {"repository": "acme/shop.git"}},
        {"root:github_repository"},
    ),
    (
        "public_endpoint_cidrs_do_not_add_up_to_the_internet",
        "dev",
        "shop",
        {"endpoint_public_cidrs": ["0.0.0.0/1", "128.0.0.0/1"]},
        {"root:endpoint_public_access_cidrs"},
    ),
]


def _twin(spec: str) -> str:
    """`terraform/modules/eks/variables.tf:node_groups` -> `eks:node_groups` (root: the root's)."""
    path, variable = spec.split(":")
    return f"{'root' if path == rules.ROOT else path.split('/')[2]}:{variable}"


def _terraform_refuses(root: Path, env: str, work: Path) -> set[str]:
    """Render the environment's root as the rules would never let it be, and plan it offline."""
    cfg = build.config(loader.read(env, root))  # the rules are not run: render what they refuse
    texts = templates.texts(render.terraform(cfg))
    folder = f"terraform/environments/{env}/"
    verdict = probe(
        {name: texts[folder + name] for name in ("main.tf", "variables.tf", "terraform.tfvars")}, work
    )
    found = re.findall(
        r"var\.([a-z_]+) is .*?This was checked by the validation rule at"
        r"\s+(?:modules/([a-z-]+)/)?variables\.tf",
        verdict.out,
        re.DOTALL,
    )
    assert verdict.code != 0 or not found, verdict.out
    return {f"{module or 'root'}:{variable}" for variable, module in found}


def test_every_twin_is_probed() -> None:
    probed: dict[str, set[str]] = {}
    for rule, *_rest, twins in AGREEMENT:
        probed.setdefault(rule, set()).update(twins)
    assert probed == {rule: {_twin(t) for t in twins} for rule, twins in rules.TWINS.items()}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("rule", "env", "project", "values", "twins"),
    AGREEMENT,
    ids=[f"{a[0]}-{sorted(a[4])[0]}" for a in AGREEMENT],
)
def test_terraform_refuses_what_the_rule_refuses(
    root: Path, tmp_path: Path, rule: str, env: str, project: str, values: dict[str, Any], twins: set[str]
) -> None:
    merged = named(root, env, cloud_env(**values), project=project)
    refused(getattr(rules, rule), merged)
    assert _terraform_refuses(root, env, tmp_path / "probe") == twins


@pytest.mark.slow
def test_terraform_accepts_the_edges_the_rules_accept(root: Path, tmp_path: Path) -> None:
    """Values just inside every rule: the rules pass them, and so does Terraform."""
    edges = cloud_env(
        vpc_cidr="10.0.0.0/24",
        node_count={"min": 0, "max": 1, "desired": 0},
        access={"admins": ["arn:aws:iam::123456789012:user/ci"]},
        github={"repository": "acme/shop.api"},
        endpoint_public_cidrs=["0.0.0.0/1", "192.0.2.0/24"],
        databases={"pg": {**RDS["pg"], "username": "shop_admin"}},
    )
    env = "e" * (48 - len("p" * 24) - 1)  # the VPC's name is exactly 48 characters
    assert load_named(root, env, edges, "p" * 24).cloud is not None
    assert _terraform_refuses(root, env, tmp_path / "probe") == set()
    redis = cloud_env(databases=REDIS)
    # A Redis Cloud module makes a Redis database: pg runs redis here.
    assert (
        load_named(root, "e" * 35, redis, "shop", image="redis:7").cloud is not None
    )  # shop-eee...: exactly 40
    assert _terraform_refuses(root, "e" * 35, tmp_path / "redis") == set()


def load_named(root: Path, env: str, data: dict[str, Any], project: str, image: str = "") -> Any:
    named(root, env, data, project=project, image=image)
    return loader.load(env, root)


def test_the_rds_modules_reserved_names_are_the_rules() -> None:
    module = (Path(__file__).resolve().parents[4] / "terraform/modules/rds-postgres/variables.tf").read_text()
    listed = re.search(r"!contains\(\[(.*?)\], lower\(var\.username\)\)", module, re.DOTALL)
    assert listed is not None
    assert set(re.findall(r'"([a-z_]+)"', listed[1])) == rules.RDS_RESERVED
