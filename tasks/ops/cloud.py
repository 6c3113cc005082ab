"""Cloud account operations: point kubectl at a cluster, log in to a registry, push images.

Images are content-addressed (tasks/store/images.py): a reference names its content, so
an image already in the registry never needs pushing again, and one cheap call per image
(`docker manifest inspect`) decides.
"""

from __future__ import annotations

from pathlib import Path

from tasks.errors import StackError
from tasks.output import console
from tasks.programs import aws, docker
from tasks.store import state
from tasks.store.images import ref_file, state_dir


def kubeconfig(region: str, cluster: str) -> None:
    """A kubectl context named after the cluster, pointing at the EKS cluster."""
    aws.update_kubeconfig(region, cluster)
    console.step(f"kubectl context {cluster} points at EKS cluster {cluster} ({region})")


def login(registry: str, region: str) -> None:
    """docker login to an ECR registry with a password from the AWS CLI."""
    if ".dkr.ecr." not in registry:
        console.step(f"{registry} is not ECR: log in with `docker login {registry}` yourself")
        return
    # The password goes from one program to the other through stdin, never argv or a file.
    docker.login(registry, "AWS", aws.ecr_password(region))
    console.step(f"logged in to {registry}")


def push(env: str, names: list[str], registry: str, out: Path) -> None:
    """Push each image the registry lacks; record every remote reference in `out`/<name>.ref."""
    registry = registry.rstrip("/")
    missing = [n for n in names if not ref_file(env, n).exists()]
    if missing or not names:
        raise StackError(
            f"no built image recorded for {', '.join(missing) or 'any service'} in {state_dir(env)}/",
            fix=f"run `doit images env={env}` first",
        )
    for name in names:
        ref = ref_file(env, name).read_text().strip()
        remote = f"{registry}/{ref}"
        if docker.in_registry(remote):
            console.step(f"{remote}: already in the registry")
        else:
            docker.tag(ref, remote)
            docker.push(remote, prefix=f"push-{name}")
            console.step(f"{remote}: pushed")
        state.write_atomic(out / f"{name}.ref", remote + "\n")  # write_atomic makes the folder
