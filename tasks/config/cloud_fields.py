"""The declared settings of a cloud environment's `cloud:` block: their types and value checks.

Split from tasks/config/fields.py (which imports CLOUD from here) so that each stays small; the
rules that relate two cloud values are in tasks/config/rules/cloud.py and cloud_values.py.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from tasks.config import cloud_db
from tasks.config import schema as s

NODES = s.Scalar((int,), s.between(0, 1000))


def public_cidr(value: Any) -> tuple[str, str] | None:
    """Who may reach the public Kubernetes API: a real block, never the whole internet."""
    try:
        net = ipaddress.IPv4Network(value)
    except ValueError:
        return f"{value!r} is not an IPv4 CIDR block", "write it like '203.0.113.0/24'"
    if net.prefixlen == 0:
        return (
            f"{value!r} opens the Kubernetes API to the whole internet",
            "list the CIDR blocks of your office, VPN or CI egress instead",
        )
    return None


def iam_arn(value: Any) -> tuple[str, str] | None:
    """The form of an IAM or STS ARN; that EKS takes only roles and users (never an assumed-role
    session) is a rule, with the role to write instead (rules/cloud_values.py)."""
    if re.match(r"^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:(role|user|assumed-role)/\S+$", value):
        return None
    return f"{value!r} is not an IAM role or user ARN", "write it like 'arn:aws:iam::123456789012:role/Admin'"


def slash24(value: Any) -> tuple[str, str] | None:
    """Redis Cloud deploys into exactly a /24."""
    if bad := s.cidr(value):
        return bad
    return (
        None if value.endswith("/24") else (f"{value!r} is not a /24 block", "write it like 192.168.10.0/24")
    )


CLUSTER_VERSION = re.compile(r"^1\.[0-9]+$")


def k8s_minor(value: Any) -> tuple[str, str] | None:
    if CLUSTER_VERSION.match(value):
        return None
    return f"{value!r} is not a Kubernetes minor version", "write it like '1.33' (quoted)"


_GIT_URL = s.pattern(
    r"(https://|ssh://|git@)[A-Za-z0-9._~:/@%+-]+",
    "Git repository URL",
    "'https://github.com/owner/name.git'",
)


def git_url(value: Any) -> tuple[str, str] | None:
    """A Git URL without credentials: it is written into a committed file (the Application), so
    `https://<user>:<token>@host/...` would publish the token; Argo CD keeps credentials itself."""
    if bad := _GIT_URL(value):
        return bad
    authority, _, rest = value[len("https://") :].partition("/")
    if value.startswith("https://") and "@" in authority:
        shown = f"https://***@{authority.rsplit('@', 1)[1]}/{rest}"  # never the token, even here
        return (
            f"{shown!r} carries credentials (a user or token before '@'), and it is written into "
            "a committed file",
            "write the URL without them, like 'https://github.com/owner/name.git', and give Argo CD "
            "the credentials as a repository Secret (argocd.argoproj.io/secret-type: repository)",
        )
    return None


DEPLOY_MODES = ("kubectl", "argocd")
ARGOCD = s.Fields(
    {
        # The Git repository Argo CD pulls (default: https://github.com/<cloud.github.repository>.git).
        "repo_url": s.Scalar((str,), git_url),
        # The branch, tag or commit it follows (default HEAD: the repository's default branch).
        "revision": s.typed(r"[A-Za-z0-9._/-]{1,200}", "Git revision", "'main'"),
        "namespace": s.NAME,  # where Argo CD runs and the Application lives (default argocd)
        "project": s.NAME,  # the Argo CD project (default `default`)
        "automated": s.BOOL,  # sync each new commit without a click (default true)
        "prune": s.BOOL,  # delete what the overlay no longer has (default false)
        "self_heal": s.BOOL,  # undo changes made in the cluster by hand (default true)
    },
    frozenset(),
)


# Every module's settings in one mapping; which module takes which is a rule (rules/cloud.py).
CLOUD_DATABASE = s.Fields(
    {
        "module": s.Scalar((str,), s.one_of(*cloud_db.MODULES)),
        "instance_size": s.Scalar((str,), s.one_of(*cloud_db.ATLAS_SIZES)),
        # Names: the pattern each module accepts is a rule (rules/cloud.py).
        "username": s.typed(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}", "database user name", "'myapp'"),
        "database_name": s.typed(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}", "database name", "'myapp'"),
        "instance_class": s.typed(r"db\.[a-z0-9-]+\.[a-z0-9]+", "RDS instance class", "'db.t4g.micro'"),
        "storage_gb": s.Scalar((int,), s.between(20, 16384)),
        "deployment_cidr": s.Scalar((str,), slash24),
    },
    frozenset({"module"}),
)
CLOUD = s.Fields(
    {
        "region": s.typed(r"[a-z]{2}(?:-[a-z]+)+-[0-9]", "AWS region", "'us-west-2'"),
        "cluster_name": s.NAME,
        "registry": s.IMAGE_REPO,
        "vpc_cidr": s.CIDR,
        "node_instance_types": s.ListOf(s.typed(r"[a-z0-9-]+\.[a-z0-9]+", "EC2 instance type", "'m5.large'")),
        "endpoint_private": s.BOOL,
        # Kubernetes minor of the EKS control plane; must match kubernetes_version (a rule: rules/cloud.py).
        "cluster_version": s.Scalar((str,), k8s_minor),
        # Who may reach the public API endpoint (never 0.0.0.0/0); unused when endpoint_private.
        "endpoint_public_cidrs": s.ListOf(s.Scalar((str,), public_cidr)),
        # EKS access entries: cluster admins and read-only users (IAM ARNs). The CI deploy
        # role is made by terraform/modules/github-oidc and gets its entry there.
        "access": s.Fields(
            {"admins": s.ListOf(s.Scalar((str,), iam_arn)), "readers": s.ListOf(s.Scalar((str,), iam_arn))},
            frozenset({"admins"}),
        ),
        # GitHub repository (owner/name) whose deploy workflow may assume the deploy role.
        "github": s.Fields(
            {"repository": s.typed(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", "GitHub repository", "'owner/name'")},
            frozenset({"repository"}),
        ),
        # How `doit deploy:<env>` deploys: `kubectl` applies the overlay itself; `argocd` renders
        # an Argo CD Application (k8s/overlays/<env>/argocd-application.yaml) and only waits for it.
        "deploy_mode": s.Scalar((str,), s.one_of(*DEPLOY_MODES)),
        # The Application's settings, argocd mode only (defaults: tasks/model.py `ArgoCD`).
        "argocd": ARGOCD,
        # One environment per AWS account creates what the account shares (ECR, GitHub OIDC provider).
        "create_shared": s.BOOL,
        # What creates each managed database: a Terraform module and its settings (tasks/config/cloud_db.py).
        "databases": s.MapOf(CLOUD_DATABASE, s.dns_label),
        "node_count": s.Fields(
            {"min": NODES, "max": NODES, "desired": NODES}, frozenset({"min", "max", "desired"})
        ),
        "state": s.Fields(
            {
                "bucket": s.typed(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "S3 bucket name", "'myapp-tfstate'"),
                "lock_table": s.typed(r"[A-Za-z0-9_.-]{3,255}", "DynamoDB table name", "'myapp-tflock'"),
            },
            frozenset({"bucket", "lock_table"}),
        ),
    },
    frozenset(
        {
            "region",
            "cluster_name",
            "registry",
            "vpc_cidr",
            "node_instance_types",
            "node_count",
            "state",
            "cluster_version",
            "access",
            "github",
        }
    ),
    moved=cloud_db.MOVED,
)
