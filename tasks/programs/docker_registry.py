"""docker's registry commands: log in, push an image, make and push a manifest list. What a
registry holds is read with skopeo (tasks/programs/skopeo.py), never through the daemon."""

from __future__ import annotations

from tasks.programs import tools


def login(registry: str, username: str, password: str) -> None:
    # The password goes through stdin, never argv or a file.
    tools.run("docker", "login", "--username", username, "--password-stdin", registry, input=password)


def push(remote: str, *, prefix: str) -> None:
    tools.run("docker", "push", remote, prefix=prefix)


def push_manifest_list(target: str, images: list[str], *, insecure: bool) -> None:
    """Make the manifest list `target` of pushed `images` (one per platform; the registry's
    manifests give each one's platform) and push it. `--amend`: a list of that name left in
    the CLI's store by an interrupted run is replaced, not an error; `--purge`: none is left
    behind. `insecure`: a plain-HTTP registry (the loopback's)."""
    plain = ["--insecure"] if insecure else []
    tools.run("docker", "manifest", "create", *plain, "--amend", target, *images)
    tools.run("docker", "manifest", "push", *plain, "--purge", target)
