"""The AWS CLI: EKS kubeconfig and the ECR login password."""

from __future__ import annotations

from tasks.programs import tools


def update_kubeconfig(region: str, cluster: str) -> None:
    """Point a kubectl context named after the cluster at the EKS cluster."""
    tools.run("aws", "eks", "update-kubeconfig", "--region", region, "--name", cluster, "--alias", cluster)


def ecr_password(region: str) -> str:
    return tools.run("aws", "ecr", "get-login-password", "--region", region).stdout.strip()
