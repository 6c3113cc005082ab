"""The docker CLI: images, containers and volumes, as typed values (the registry's commands:
docker_registry.py). Every call goes through the tools door (tasks/programs/tools.py `run`);
`docker_env` points a call at another daemon (Minikube's). Listings are parsed here only."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tasks.errors import ToolError
from tasks.programs import tools

Env = Mapping[str, str] | None


@dataclass(frozen=True)  # gremlin: pardon[equivalent] nothing assigns to a Tagged or hashes one
class Tagged:
    """One tag in the daemon (`docker image ls` row)."""

    repo: str
    tag: str
    image_id: str
    created: str  # sortable: `docker image ls` prints "2024-05-01 12:00:00 +0000 UTC"

    @property
    def ref(self) -> str:
        return f"{self.repo}:{self.tag}"


def installed() -> bool:
    return tools.which("docker") is not None


def image_pairs(env: Env = None, *, timeout: float | None = None) -> set[tuple[str, str]]:
    """(image ID, repo:tag) of every tagged image: one call answers for every image."""
    out = tools.run(
        "docker",
        "image",
        "ls",
        "--no-trunc",
        "--format",
        "{{.ID}} {{.Repository}}:{{.Tag}}",
        env=env,
        timeout=timeout,
    ).stdout
    return {(i, r) for i, _, r in (line.partition(" ") for line in out.splitlines()) if r}


def image_refs(env: Env = None, *, check: bool = True) -> list[str] | None:
    """Every repo:tag in the daemon; None when it cannot be asked (check=False)."""
    result = tools.run("docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", env=env, check=check)
    return result.stdout.split() if result.code == 0 else None


def tagged(repos: list[str]) -> list[Tagged]:
    """Every tag of the repositories, with its image ID and creation time."""
    out = tools.run(
        "docker",
        "image",
        "ls",
        "--no-trunc",
        "--format",
        "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedAt}}",
    ).stdout
    wanted = set(repos)
    rows = [line.split("\t") for line in out.splitlines()]
    return [Tagged(*row[:4]) for row in rows if len(row) >= 4 and row[0] in wanted]


def container_image_ids() -> set[str]:
    """Image IDs of every container (running or stopped)."""
    ids = tools.run("docker", "ps", "-aq", "--no-trunc").stdout.split()
    if not ids:
        return set()
    return set(tools.run("docker", "inspect", "--format", "{{.Image}}", *ids).stdout.split())


def remove_image(ref: str) -> None:
    """`docker image rm` without --force: the tag goes; the image only when nothing else uses it."""
    tools.run("docker", "image", "rm", ref)


BUILD_TAIL = 20  # lines of a failed build's output shown in its error
# The classic builder's notice on every build (docker 23+): not the failure, so not in its tail.
BUILD_NOISE = (
    "DEPRECATED: The legacy builder",
    "Install the buildx component",
    "https://docs.docker.com/go/buildx/",
)


def build(
    dockerfile: str,
    context: str,
    *,
    build_args: Mapping[str, str],
    iidfile: Path,
    prefix: str,
    env: Env = None,
    stage: str | None = None,
    platform: str | None = None,
) -> None:
    """`docker build`, the image ID written to `iidfile`; `stage`: the build spec's `target`
    (a multi-stage Dockerfile's stage to stop at); `platform`: another than the host's, emulated.

    `--force-rm`: a failed step's container is removed too (the daemon is shared; nothing
    of a failed build should stay behind). A failure raises a ToolError whose tail is the
    last BUILD_TAIL lines of the whole output: the failing step's own lines (a test's
    report), not only Docker's summary ("returned a non-zero code: 1"), which is alone on
    stderr with the classic builder."""
    until = ["--target", stage] if stage else []
    until += ["--platform", platform] if platform else []
    flags = [f for key, value in sorted(build_args.items()) for f in ("--build-arg", f"{key}={value}")]
    cmd = [
        "docker",
        "build",
        "--force-rm",
        "-f",
        dockerfile,
        *until,
        *flags,
        "--iidfile",
        str(iidfile),
        context,
    ]
    try:
        tools.run(*cmd, prefix=prefix, env=env)
    except tools.DaemonDown:
        raise
    except ToolError as exc:
        # The classic builder streams the steps on stdout and its summary on stderr; BuildKit
        # writes everything on stderr. In that order, the two are the build as it happened.
        lines = [
            line
            for line in (exc.stdout + exc.stderr).splitlines()
            if line.strip() and not line.strip().startswith(BUILD_NOISE)
        ]
        raise ToolError(
            exc.cmd, exc.code, "\n".join(lines[-BUILD_TAIL:]), fix=exc.fix, stdout=exc.stdout
        ) from None


def tag(source: str, target: str, env: Env = None) -> None:
    tools.run("docker", "tag", source, target, env=env)


def import_root(root: Path, ref: str, env: Env = None) -> str:
    """`docker import` a root file system folder as `ref`; returns what docker printed (the ID).

    bash with pipefail, not sh: a failing `tar` (a folder gone, unreadable files) must fail the
    step, not hand `docker import` an empty or cut stream that it imports as a broken image.
    """
    script = 'set -o pipefail; tar -C "$1" -c . | docker import - "$2"'
    return tools.run("bash", "-c", script, "bash", str(root), ref, env=env).stdout.strip()


def import_foreign_root(root: Path, ref: str, platform: str, env: Env = None) -> str:
    """A root file system of another platform (`linux/arm64`) as the image `ref`; returns its ID.
    A build FROM scratch that ADDs the root's tar, not `docker import --platform`, which a daemon
    without experimental features ignores, labelling the image (and all built on it) as its own."""
    with tempfile.TemporaryDirectory(prefix="stackbuild-foreign-root-") as folder:
        context = Path(folder)
        tools.run("tar", "-C", str(root), "-cf", str(context / "root.tar"), ".")
        (context / "Dockerfile").write_text("FROM scratch\nADD root.tar /\n")
        cmd = ["docker", "build", "--quiet", "--platform", platform, "--tag", ref, str(context)]
        return tools.run(*cmd, env=env).stdout.strip()


@dataclass(frozen=True)
class ServiceState:
    """One Compose container as `docker ps` sees it."""

    service: str  # its com.docker.compose.service label
    state: str  # running | exited | ...; a running container failing its healthcheck is
    # "unhealthy", one whose healthcheck has not passed yet "starting"
    container: str = ""  # its ID
    image: str = ""  # its image as `ps` names it (the reference, or the ID once that moved)


def _ps(label: str, fmt: str, *, all_states: bool = False, timeout: float | None = None) -> list[str] | None:
    """`docker ps` rows (in `fmt`) of the containers with `label`, stopped ones too with
    `all_states`; None when the daemon cannot be asked."""
    result = tools.run(
        "docker",
        "ps",
        *(["-a"] if all_states else []),
        "--filter",
        f"label={label}",
        "--format",
        fmt,
        check=False,
        timeout=timeout,
    )
    return result.stdout.splitlines() if result.code == 0 else None


def parse_states(lines: list[str]) -> list[ServiceState]:
    """`service<TAB>state<TAB>status` rows: the status text says whether a running
    container's healthcheck failed or has not passed yet."""
    out = []
    for line in lines:
        parts = line.split("\t")
        if len(parts) < 3 or not parts[0]:
            continue
        service, state, status = parts[0], parts[1], parts[2]
        if state == "running" and "(unhealthy)" in status:
            state = "unhealthy"
        elif state == "running" and "(health: starting)" in status:
            state = "starting"
        out.append(ServiceState(service, state, *parts[3:5]))
    return out


def compose_states(project: str) -> list[ServiceState] | None:
    """Every container of a Compose project, stopped ones too; None when the daemon cannot
    be asked."""
    rows = _ps(
        f"com.docker.compose.project={project}",
        '{{.Label "com.docker.compose.service"}}\t{{.State}}\t{{.Status}}\t{{.ID}}\t{{.Image}}',
        all_states=True,
    )
    return None if rows is None else parse_states(rows)


def published_ports(label: str, *, timeout: float) -> set[int]:
    """Host ports the running containers with `label` publish (none when the daemon cannot
    be asked, or docker is not installed)."""
    rows = _ps(label, "{{.Ports}}", timeout=timeout) if installed() else None
    return {int(port) for row in rows or [] for port in re.findall(r":(\d+)->", row)}


@dataclass(frozen=True)
class PortHolder:
    """A running container that publishes a host port."""

    container: str
    project: str  # its Compose project ("" for a container Compose did not start)


def port_holders() -> dict[int, PortHolder] | None:
    """host port -> the running container that publishes it (one call for all); None when
    the daemon cannot be asked."""
    result = tools.run(
        "docker",
        "ps",
        "--format",
        '{{.Names}}\t{{.Label "com.docker.compose.project"}}\t{{.Ports}}',
        check=False,
        timeout=10,
    )
    if result.code != 0:
        return None
    out: dict[int, PortHolder] = {}
    for line in result.stdout.splitlines():
        name, _, rest = line.partition("\t")
        project, _, ports = rest.partition("\t")
        for port in re.findall(r":(\d+)->", ports):
            out.setdefault(int(port), PortHolder(name, project))
    return out


@dataclass(frozen=True)
class HealthCheck:
    """A container's health as Docker keeps it (`State.Health`): its status, how many checks
    failed in a row, and the last check's exit code and output (what it said went wrong)."""

    status: str  # starting | healthy | unhealthy
    failing_streak: int
    exit_code: int | None  # of the last check; None before the first
    output: str  # of the last check, stripped

    def cause(self, width: int = 200) -> str:
        """The last check's output in one line (its last non-empty line), for a status note."""
        lines = [line.strip() for line in self.output.splitlines() if line.strip()]
        said = lines[-1] if lines else "(no output)"
        exit_code = "" if self.exit_code is None else f"exit {self.exit_code}: "
        text = exit_code + said
        return text if len(text) <= width else text[: width - 3] + "..."


def parse_health(text: str) -> dict[str, HealthCheck]:
    """`docker inspect --format '{{.Name}}<TAB>{{json .State.Health}}'` rows: container name ->
    its health; containers without a healthcheck (`null`) are left out."""
    out: dict[str, HealthCheck] = {}
    for line in text.splitlines():
        name, _, raw = line.partition("\t")
        try:
            doc = json.loads(raw) if raw.strip() else None
        except ValueError:
            continue
        if not isinstance(doc, dict):
            continue
        log = [entry for entry in doc.get("Log") or [] if isinstance(entry, dict)]
        last = log[-1] if log else {}
        code = last.get("ExitCode")
        out[name.strip().lstrip("/")] = HealthCheck(
            str(doc.get("Status", "")),
            int(doc.get("FailingStreak") or 0),
            int(code) if isinstance(code, int) else None,
            str(last.get("Output") or "").strip(),
        )
    return out


def health(containers: list[str]) -> dict[str, HealthCheck]:
    """The health of each named container that has a healthcheck (one call for all); empty
    when none is given or the daemon cannot say (a container gone meanwhile is left out)."""
    if not containers:
        return {}
    result = tools.run(
        "docker", "inspect", "--format", "{{.Name}}\t{{json .State.Health}}", *containers, check=False
    )
    return parse_health(result.stdout)


def volume_labels(names: list[str], key: str) -> dict[str, str] | None:
    """name -> the value of label `key` on each volume ("" when it has none); None when one
    of them is missing or the daemon cannot be asked."""
    fmt = f'{{{{.Name}}}}\t{{{{index .Labels "{key}"}}}}'
    result = tools.run("docker", "volume", "inspect", "--format", fmt, *names, check=False)
    if result.code != 0:
        return None
    rows = (line.partition("\t") for line in result.stdout.splitlines() if line.strip())
    # Go's template prints "<no value>" for a missing key on some versions, nothing on others.
    return {name: "" if value == "<no value>" else value for name, _, value in rows}


def create_volume(name: str, labels: Mapping[str, str]) -> None:
    """`docker volume create` with labels (they cannot change later); a volume of that name
    that exists already is left as it is."""
    flags = [f for key, value in sorted(labels.items()) for f in ("--label", f"{key}={value}")]
    tools.run("docker", "volume", "create", *flags, name)


def volumes(label: str) -> list[str] | None:
    """Names of the volumes with `label`; None when the daemon cannot be asked."""
    result = tools.run("docker", "volume", "ls", "-q", "--filter", f"label={label}", check=False)
    return result.stdout.split() if result.code == 0 else None


@dataclass(frozen=True)
class Running:
    """One running container: its ID and the image it was started from (as Docker names it)."""

    id: str
    image: str


# What `docker ps` prints as a container's image when the reference it was created from has
# since moved to another image: the image's ID (short, or sha256:<64 hex> with --no-trunc).
_IMAGE_ID = re.compile(r"^(sha256:)?[0-9a-f]{12,64}$")


def project_containers(project: str) -> dict[str, list[Running]]:
    """The running containers of a Compose project by service (Compose's labels), each with
    the image reference it was created from. One `docker ps` names all three; only a container
    whose reference has since moved to another image (ps then prints the image's ID) costs a
    `docker inspect` more, which still knows the reference."""
    rows = tools.run(
        "docker",
        "ps",
        "--no-trunc",
        "--filter",
        f"label=com.docker.compose.project={project}",
        "--format",
        '{{.ID}}\t{{.Label "com.docker.compose.service"}}\t{{.Image}}',
    ).stdout.splitlines()
    found = [tuple(part.strip() for part in r.split("\t", 2)) for r in rows if r.count("\t") == 2]
    moved = [cid for cid, _, image in found if _IMAGE_ID.match(image)]
    refs: dict[str, str] = {}
    if moved:
        out = tools.run("docker", "inspect", "--format", "{{.Config.Image}}", *moved).stdout.splitlines()
        refs = {cid: ref.strip() for cid, ref in zip(moved, out, strict=True)}
    by_service: dict[str, list[Running]] = {}
    for cid, service, image in found:
        by_service.setdefault(service, []).append(Running(cid, refs.get(cid, image)))
    return by_service


def copy_archive(container: str, data: bytes, *, timeout: float) -> None:
    """Unpack a tar stream at the container's root (`docker cp - <container>:/`): any number of
    files in ONE call. The daemon writes them, so the container's user needs no rights; each
    gets the owner and mode its entry says."""
    tools.run("docker", "cp", "-", f"{container}:/", input=data, timeout=timeout)


def exec_in(container: str, command: str, *, timeout: float) -> None:
    """Run a shell command in a running container, as its own user."""
    tools.run("docker", "exec", container, "sh", "-c", command, timeout=timeout)


def restart(containers: list[str], *, grace: int, timeout: float) -> None:
    """Restart containers in place (their writable layer, with what was copied in, stays):
    SIGTERM, `grace` seconds, then SIGKILL."""
    tools.run("docker", "restart", "--time", str(grace), *containers, timeout=timeout)
