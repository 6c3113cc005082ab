"""Cloud account operations: point kubectl at a cluster, log in to a registry, push images.

Images are content-addressed (tasks/store/images.py): a reference names its content, so
an image already in the registry never needs pushing again, and one cheap call per image
(`skopeo inspect`) decides. What the registry then serves, by digest, is written to the
environment's release record (tasks/ops/release_record.py): the digest is read back from the
registry, never taken from the local daemon, so the record names exactly what a cluster pulls.
"""

from __future__ import annotations

from pathlib import Path

from tasks.errors import StackError
from tasks.ops import platforms, release_record
from tasks.output import console
from tasks.programs import aws, docker, docker_registry, git, skopeo
from tasks.store import state
from tasks.store.images import arch, list_tag, platform_ref, state_dir


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
    docker_registry.login(registry, "AWS", aws.ecr_password(region))
    console.step(f"logged in to {registry}")


def push(env: str, names: list[str], registry: str, out: Path, listed: tuple[str, ...] = ()) -> None:
    """Push each image the registry lacks; record every remote reference in `out`/<name>.ref and
    every digest the registry serves in the release record. `listed`: the environment's
    images.platforms; more than the host's makes one manifest list per image, and the record
    pins the list."""
    registry = registry.rstrip("/")
    built = _built(env, names, listed)
    before = release_record.read(env)  # a malformed record stops the push before any upload
    commit = git.head(Path.cwd()) or "unknown"
    pinned: dict[str, release_record.Image] = {}
    for name in names:
        refs = built[name]
        if tuple(refs) == (platforms.host(),):
            remote, digest = _push_image(env, registry, refs[platforms.host()], name)
        else:
            remote, digest = _push_list(env, registry, refs, name)
        pinned[name] = _image(
            remote.rsplit(":", 1)[0], digest, commit, before.images.get(name) if before else None
        )
        state.write_atomic(out / f"{name}.ref", remote + "\n")  # write_atomic makes the folder
    record = release_record.Record(env, pinned)
    changed = release_record.write(record)
    where = release_record.path(env).as_posix()
    console.step(
        f"{where}: {'written' if changed else 'unchanged'} ({len(pinned)} images by digest); commit it"
    )


def _built(env: str, names: list[str], listed: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """name -> {platform: local reference} of every image to push; none missing."""
    host = platforms.host()
    wanted = listed or (host,)
    files = {name: {p: platform_ref(env, name, p, host) for p in wanted} for name in names}
    missing = [(n, f) for n in names for f in files[n].values() if not f.exists()]
    if missing or not names:
        where = sorted({f"{f.parent}/" for _, f in missing}) or [f"{state_dir(env)}/"]
        raise StackError(
            f"no built image recorded for {', '.join(dict.fromkeys(n for n, _ in missing)) or 'any service'}"
            f" in {' and '.join(where)}",
            fix=f"run `doit images env={env}` first",
        )
    return {n: {p: f.read_text().strip() for p, f in refs.items()} for n, refs in files.items()}


def _push_image(env: str, registry: str, ref: str, step: str) -> tuple[str, str]:
    """One image, pushed unless the registry has it: its remote reference and served digest."""
    remote = f"{registry}/{ref}"
    digest = skopeo.digest(remote)
    if digest is not None:
        console.step(f"{remote}: already in the registry")
    else:
        docker.tag(ref, remote)
        docker_registry.push(remote, prefix=f"push-{step}")
        console.step(f"{remote}: pushed")
        digest = skopeo.digest(remote)  # what the registry serves, not what the daemon says
    return remote, _served(env, registry, remote, digest)


def _push_list(env: str, registry: str, refs: dict[str, str], name: str) -> tuple[str, str]:
    """Each platform's image, then the manifest list of them (unless the registry has it)."""
    remotes = [_push_image(env, registry, ref, f"{name}@{arch(p)}")[0] for p, ref in sorted(refs.items())]
    repository = remotes[0].rsplit(":", 1)[0]
    target = f"{repository}:{list_tag(refs)}"
    digest = skopeo.digest(target)
    if digest is not None:
        console.step(f"{target}: manifest list already in the registry")
    else:
        docker_registry.push_manifest_list(target, remotes, insecure=skopeo.plain_http(target))
        console.step(f"{target}: manifest list of {', '.join(sorted(refs))} pushed")
        digest = skopeo.digest(target)
    return target, _served(env, registry, target, digest)


def _served(env: str, registry: str, remote: str, digest: str | None) -> str:
    if digest is None:
        raise StackError(
            f"the registry does not serve {remote} right after it was pushed",
            fix=f"check the registry {registry} (storage, logs), then run `doit push:{env}` again",
        )
    return digest


def _image(
    repository: str, digest: str, commit: str, old: release_record.Image | None
) -> release_record.Image:
    # The same digest is the same content: it keeps the commit it was first built from.
    if old is not None and old.repository == repository and old.digest == digest:
        return old
    return release_record.Image(repository, digest, commit)
