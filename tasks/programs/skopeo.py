"""skopeo (Debian's `skopeo`): what a registry holds, read from the registry itself, and copies
between repositories, never through a Docker daemon.

A digest is the sha256 of the manifest bytes the registry serves (`skopeo inspect --raw`):
for a manifest list that is the list's own digest, the one a cluster pins.
"""

from __future__ import annotations

import hashlib
import ipaddress

from tasks.errors import ToolError
from tasks.programs import tools

# A registry on the loopback is served over plain HTTP, as Docker itself treats it (its
# default insecure registries are 127.0.0.0/8): a test's registry, never a cloud one.
LOCAL_HOSTS = ("localhost",)
MISSING = ("manifest unknown", "name unknown", "not found")
UNREACHABLE = ("connection refused", "no such host", "i/o timeout", "no route to host")
# One registry round trip; a hang here is a network fault, not a slow registry.
TIMEOUT = 120.0


def plain_http(reference: str) -> bool:
    """Is the registry of `reference` (host[:port]/repo...) on this machine's loopback?"""
    host = reference.split("/", 1)[0].rsplit(":", 1)[0].strip("[]")
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _tls(flag: str, reference: str) -> list[str]:
    return [f"{flag}=false"] if plain_http(reference) else []


def _fix(stderr: str, reference: str) -> str | None:
    low = stderr.lower()
    registry = reference.split("/", 1)[0]
    if any(s in low for s in UNREACHABLE):
        return (
            f"the registry {registry} is not reachable: start it, or fix `cloud.registry` of the environment"
        )
    if "unauthorized" in low or "authentication required" in low:
        return f"log in to {registry} (`doit registry_login:<env>`)"
    return None


def digest(reference: str) -> str | None:
    """The digest (`sha256:...`) the registry serves for `reference` (repo:tag or repo@digest);
    None when the registry says it has no such image. An unreachable registry raises."""
    result = tools.run(
        "skopeo",
        "inspect",
        "--raw",
        "--retry-times",
        "2",
        *_tls("--tls-verify", reference),
        f"docker://{reference}",
        check=False,
        timeout=TIMEOUT,
    )
    if result.code == 0:
        return "sha256:" + hashlib.sha256(result.stdout.encode()).hexdigest()
    if any(s in result.stderr.lower() for s in MISSING) and _fix(result.stderr, reference) is None:
        return None
    raise ToolError(
        ["skopeo", "inspect", f"docker://{reference}"],
        result.code,
        result.stderr,
        fix=_fix(result.stderr, reference),
    )


def copy(source: str, target: str) -> None:
    """`skopeo copy --all`: the image and, for a manifest list, every platform's image, byte for
    byte, so the digest stays the same. `--preserve-digests` makes skopeo fail rather than
    change one."""
    args = [
        "copy",
        "--all",
        "--preserve-digests",
        "--retry-times",
        "2",
        *_tls("--src-tls-verify", source),
        *_tls("--dest-tls-verify", target),
        f"docker://{source}",
        f"docker://{target}",
    ]
    result = tools.run("skopeo", *args, check=False, timeout=TIMEOUT * 10)
    if result.code != 0:
        raise ToolError(["skopeo", *args], result.code, result.stderr, fix=_fix(result.stderr, source))
