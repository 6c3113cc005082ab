"""Rules about cloud values Terraform or AWS would refuse much later (at `tf_plan`, or half way
through `tf_apply`): each says at load time, at its key, what the module or AWS applies.

Where the tool's Terraform checks the same value (a `validation {}` of a module's or of the
root's variables), TWINS names it, and tests/unit/config/rules/test_cloud_values.py renders a
value the rule refuses and runs that validation offline with the embedded Terraform: change
one side without the other and that test fails.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Any

from tasks.config import cloud_db
from tasks.config.merged import Merged
from tasks.config.yamlpos import KeyPath

ROOT = "templates/terraform/root/variables.tf.j2"


def _module(name: str) -> str:
    return f"terraform/modules/{name}/variables.tf"


# rule -> the Terraform variables ("<file of the tool>:<variable>") whose validation it mirrors.
TWINS: dict[str, tuple[str, ...]] = {
    "vpc_is_a_size_the_networking_module_takes": (f"{_module('networking')}:vpc_cidr",),
    "a_node_group_has_room_for_a_node": (f"{_module('eks')}:node_groups",),
    "node_instance_types_are_listed": (f"{ROOT}:node_instance_types",),
    "cluster_admins_are_listed": (f"{ROOT}:admin_arns",),
    "cluster_access_names_iam_roles_or_users": (f"{ROOT}:admin_arns", f"{ROOT}:reader_arns"),
    "the_registry_is_ecr": (f"{ROOT}:registry",),
    "the_project_name_fits_the_roots": (f"{ROOT}:project",),
    "names_made_from_project_and_environment_fit": (
        f"{_module('networking')}:name",
        f"{_module('redis-cloud')}:subscription_name",
    ),
    "the_rds_user_is_not_reserved": (f"{_module('rds-postgres')}:username",),
    "the_github_repository_is_owner_and_name": (f"{ROOT}:github_repository",),
    "public_endpoint_cidrs_do_not_add_up_to_the_internet": (f"{ROOT}:endpoint_public_access_cidrs",),
}

# The root's `project` (templates/terraform/root/variables.tf.j2).
PROJECT = re.compile(r"[a-z][a-z0-9-]{0,23}")
# What RDS for PostgreSQL refuses as a master user name: its own roles and PostgreSQL's reserved
# words ("MasterUsername admin cannot be used as it is a reserved word used by the engine").
_RDS_RESERVED = """
admin rdsadmin rdsrepladmin rds_superuser rds_replication rds_password postgres_fdw all analyse
analyze and any array as asc asymmetric authorization binary both case cast check collate
collation column concurrently constraint create cross current_catalog current_date current_role
current_schema current_time current_timestamp current_user default deferrable desc distinct do
else end except false fetch for foreign freeze from full grant group having ilike in initially
inner intersect into is isnull join lateral leading left like limit localtime localtimestamp
natural not notnull null offset on only or order outer overlaps placing primary references
returning right select session_user similar some symmetric system_user table tablesample then to
trailing true union unique user using variadic verbose when where window with
"""
RDS_RESERVED = frozenset(_RDS_RESERVED.split())
# GitHub: an owner is 1 to 39 letters, digits or '-'; a repository 1 to 100 of [A-Za-z0-9_.-].
GITHUB_REPOSITORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9_.-]{1,100}")
ECR = re.compile(r"(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com")
# Names the root makes from `<project>-<environment>` (templates/terraform/root/main.tf.j2):
# (module, variable, suffix, longest, chosen only with that database module).
DERIVED = (
    ("redis-cloud", "subscription_name", "", 40, True),
    ("networking", "name", "", 48, False),
    ("rds-postgres", "identifier", "", 48, True),
    ("github-oidc", "role_name", "-deploy", 64, False),
    ("mongodb-atlas", "cluster_name", "", 64, True),
)


def _cloud(m: Merged) -> dict[str, Any]:
    cloud: dict[str, Any] = m.data.get("cloud") or {}
    return cloud


def vpc_is_a_size_the_networking_module_takes(m: Merged) -> None:
    """Subnets are cut from the VPC with 4 more bits: the module takes /16 to /24."""
    if cloud := _cloud(m):
        net = ipaddress.ip_network(cloud["vpc_cidr"])
        if not 16 <= net.prefixlen <= 24:
            raise m.error(
                ("cloud", "vpc_cidr"),
                f"a /{net.prefixlen} VPC is not what the networking module takes (/16 to /24)",
                f"use a /16 to /24 block, e.g. {net.network_address}/16",
            )


def a_node_group_has_room_for_a_node(m: Merged) -> None:
    if (cloud := _cloud(m)) and cloud["node_count"]["max"] < 1:
        raise m.error(
            ("cloud", "node_count", "max"),
            "node_count.max is 0: the cluster could never run a pod (EKS needs a max_size of 1 or more)",
            "set max to 1 or more (min may stay 0)",
        )


def node_instance_types_are_listed(m: Merged) -> None:
    if (cloud := _cloud(m)) and not cloud["node_instance_types"]:
        raise m.error(
            ("cloud", "node_instance_types"),
            "no instance types: EKS cannot make a node group without one",
            "list at least one, e.g. [t3.medium]",
        )


def cluster_admins_are_listed(m: Merged) -> None:
    if (cloud := _cloud(m)) and not cloud["access"]["admins"]:
        raise m.error(
            ("cloud", "access", "admins"),
            "no cluster admins: nobody (not even whoever runs tf_apply) could administer the cluster",
            "list at least one IAM role or user ARN, e.g. [arn:aws:iam::123456789012:role/Admin]",
        )


def _assumed_role(arn: str) -> str | None:
    """The role of an STS session ARN (arn:aws:sts::<acct>:assumed-role/<role>/<session>)."""
    found = re.fullmatch(r"arn:(aws[a-z-]*):sts::([0-9]{12}):assumed-role/([^/]+)/.*", arn)
    return f"arn:{found[1]}:iam::{found[2]}:role/{found[3]}" if found else None


def cluster_access_names_iam_roles_or_users(m: Merged) -> None:
    """An EKS access entry takes an IAM role or user; an assumed-role ARN is one session of a role."""
    cloud = _cloud(m)
    for key in ("admins", "readers"):
        for i, arn in enumerate(cloud.get("access", {}).get(key, [])):
            if re.match(r"arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/", arn):
                continue
            role = _assumed_role(arn)
            raise m.error(
                ("cloud", "access", key, i),
                f"{arn!r} is an STS session, not an IAM role or user (EKS access entries take those)"
                if role
                else f"{arn!r} is not an IAM role or user ARN",
                f"write the role itself: {role}"
                if role
                else "write it like arn:aws:iam::123456789012:role/Admin",
            )


def the_registry_is_ecr(m: Merged) -> None:
    """The cluster pulls from the registry the roots create ECR repositories in."""
    if (cloud := _cloud(m)) and not ECR.fullmatch(cloud["registry"]):
        raise m.error(
            ("cloud", "registry"),
            f"{cloud['registry']!r} is not an ECR registry (the roots create ECR repositories)",
            f"write <12-digit account>.dkr.ecr.{cloud['region']}.amazonaws.com",
        )


def the_registry_is_in_the_region(m: Merged) -> None:
    """The roots make the repositories (and the deploy role's ARNs for them) in `region`."""
    cloud = _cloud(m)
    found = ECR.fullmatch(cloud["registry"]) if cloud else None
    if found and found["region"] != cloud["region"]:
        raise m.error(
            ("cloud", "registry"),
            f"the registry is in {found['region']}, but region is {cloud['region']}: the roots "
            f"create its repositories in {cloud['region']}",
            f"use {found['account']}.dkr.ecr.{cloud['region']}.amazonaws.com, or change region",
        )


def the_project_name_fits_the_roots(m: Merged) -> None:
    """Every cloud resource name starts with the project name: the roots take 24 characters."""
    project = m.data["project"]
    if _cloud(m) and not PROJECT.fullmatch(project):
        raise m.error(
            ("project",),
            f"project {project!r} is {len(project)} characters; a cloud environment's Terraform "
            "takes 1 to 24 lowercase letters, digits or '-', starting with a letter",
            "shorten the project name (it prefixes every cloud resource name)",
        )


def _derived(m: Merged) -> Iterator[tuple[str, str, str, int, KeyPath]]:
    """(module, variable, name, longest, where) of every name the root makes here."""
    cloud = _cloud(m)
    chosen = {entry["module"]: db for db, entry in (cloud.get("databases") or {}).items()}
    for module, variable, suffix, longest, optional in DERIVED:
        if optional and module not in chosen:
            continue
        at: KeyPath = ("cloud", "databases", chosen[module], "module") if optional else ("cloud",)
        yield module, variable, f"{m.data['project']}-{m.env}{suffix}", longest, at


def names_made_from_project_and_environment_fit(m: Merged) -> None:
    """`<project>-<environment>` names the VPC, the deploy role, a Redis Cloud subscription...:
    each of them has a length its module (or AWS) accepts."""
    if not _cloud(m):
        return
    for module, variable, name, longest, at in _derived(m):
        if len(name) > longest:
            raise m.error(
                at,
                f"the {module} {variable} made from the project and environment names, {name!r}, is "
                f"{len(name)} characters; it takes at most {longest}",
                f"shorten the environment name (rename environments/{m.env}.yaml) or the project "
                f"name by {len(name) - longest} characters",
            )


def the_rds_user_is_not_reserved(m: Merged) -> None:
    cloud = _cloud(m)
    for db, entry in (cloud.get("databases") or {}).items():
        if entry["module"] != "rds-postgres":
            continue
        given = "username" in entry
        settings = {k: v for k, v in entry.items() if k != "module"}
        user = cloud_db.settings("rds-postgres", settings, m.data["project"])["username"]
        if user.lower() in RDS_RESERVED:
            where: KeyPath = ("cloud", "databases", db) + (("username",) if given else ())
            raise m.error(
                where,
                f"RDS for PostgreSQL refuses the master user name {user!r}: "
                "it is one of PostgreSQL's reserved words"
                + ("" if given else " (the default, from the project name)"),
                f"{'change' if given else 'set'} `username:` under cloud.databases.{db}, e.g. {db}_admin",
            )


def _github_repository(repo: str) -> bool:
    return bool(GITHUB_REPOSITORY.fullmatch(repo)) and not repo.endswith((".git", "/.", "/.."))


def the_github_repository_is_owner_and_name(m: Merged) -> None:
    """The deploy role trusts `repo:<owner>/<name>:...` as GitHub writes it: a `.git` there
    would never match, and every deploy would be refused AssumeRole."""
    if not (cloud := _cloud(m)):
        return
    repo = cloud["github"]["repository"]
    if not _github_repository(repo):
        bare = repo
        while bare.endswith(".git"):
            bare = bare[: -len(".git")]
        raise m.error(
            ("cloud", "github", "repository"),
            f"{repo!r} is not a GitHub repository as its tokens name it (owner/name)",
            f"write {bare!r}" if _github_repository(bare) else "write it like example-org/myapp",
        )


def public_endpoint_cidrs_do_not_add_up_to_the_internet(m: Merged) -> None:
    """Judged as a union: [0.0.0.0/1, 128.0.0.0/1] is the whole internet as much as 0.0.0.0/0.
    Blocks may not overlap either (one inside another is a mistake, and the root's validation
    adds up their sizes)."""
    cidrs = _cloud(m).get("endpoint_public_cidrs", [])
    nets = [ipaddress.ip_network(c) for c in cidrs]
    for i, net in enumerate(nets):
        for j in range(i):
            if net.overlaps(nets[j]):
                raise m.error(
                    ("cloud", "endpoint_public_cidrs", i),
                    f"{net} overlaps {nets[j]} (endpoint_public_cidrs[{j}])",
                    "list each block once: remove the one inside the other",
                )
    if nets and sum(n.num_addresses for n in nets) >= 2**32:
        raise m.error(
            ("cloud", "endpoint_public_cidrs"),
            f"{', '.join(cidrs)} together are the whole internet: the Kubernetes API would be open to anyone",
            "list the CIDR blocks of your office, VPN or CI egress instead",
        )
