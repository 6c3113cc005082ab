"""The one fake `docker`: a stateful image and container store per DOCKER_HOST.

It implements only what stackbuild calls: `build --iidfile` (or `--quiet`; `--platform`),
`tag`, `import -`, `image ls`, `image rm`, `inspect` (a container's image, name and health log), `ps`, `volume
create|inspect|ls`, `version`, `manifest inspect`. Anything
else exits 125 ("unsupported"), so a new call shows up as a failing test, not a silent pass.

Image IDs are deterministic and follow the real layering of demo/docker/Dockerfile.service: a
service image depends on the shared code and *its own* module only (not on the builder
image ID), so editing one service's module changes exactly one service image, as the layer
cache does with a real daemon. Each DOCKER_HOST gets its own store, so a docker-env build
(Minikube's daemon) is separate from a local one. The fake docker-compose
(testing/fakes/compose.py) keeps its containers and volumes in the same store.

Run as `python -m testing.fakes.docker` by the wrapper `install` writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from testing import harness
from testing.fakes import skopeo as fake_skopeo

STATE_ENV = "FAKE_DOCKER_STATE"
# Service images copy /out/shared and /out/services/<service> from the builder (the demo's layout).
SHARED = ("srvthreds_demo/common", "srvthreds_demo/__init__.py", "srvthreds_demo/__main__.py")
MUTATING = {"build", "tag", "import", "image rm", "rmi", "cp", "exec", "restart"}
CREATED = "2026-11-01 10:00:00 +0000 UTC"

Store = dict[str, Any]


def install(bin_dir: Path, state_dir: Path, log: Path | None = None) -> FakeDocker:
    """Put the fake `docker` into bin_dir; its store and (by default) its call log in state_dir.

    The fake `skopeo` comes with it: the cloud registry (ECR) the fake docker "pushes" to, which
    says it has every tag, as `docker manifest inspect` here always did."""
    state_dir.mkdir(parents=True, exist_ok=True)
    log = log or state_dir / "calls.jsonl"
    fake_skopeo.install(bin_dir, state_dir / "registry", log)
    harness.install(
        bin_dir,
        "docker",
        "testing.fakes.docker",
        env={STATE_ENV: str(state_dir), harness.CALLS_ENV: str(log)},
    )
    return FakeDocker(state_dir, log)


# --------------------------------------------------------------------------- the store


def store_path(state: Path, host: str | None = None) -> Path:
    host = host if host is not None else os.environ.get("DOCKER_HOST", "local")
    return state / f"daemon-{hashlib.sha256(host.encode()).hexdigest()[:8]}.json"


def empty() -> Store:
    return {"images": {}, "containers": {}, "volumes": {}, "clock": 0}


@contextlib.contextmanager
def transaction(path: Path) -> Iterator[Store]:
    """The store under a lock; saved only when the block finishes (a failed call saves nothing)."""
    with harness.flock(path.with_suffix(".lock")):
        store: Store = json.loads(path.read_text()) if path.exists() else empty()
        yield store
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(store, indent=1, sort_keys=True))
        tmp.replace(path)


def tick(store: Store) -> str:
    """A creation time that grows with every object made, so "newest" is well defined."""
    store["clock"] += 1
    return f"2026-11-01 10:{store['clock'] // 60:02d}:{store['clock'] % 60:02d} +0000 UTC"


def add_tag(store: Store, iid: str, ref: str) -> None:
    for image in store["images"].values():
        if ref in image["refs"]:
            image["refs"].remove(ref)
    store["images"][iid]["refs"].append(ref)


def find_image(store: Store, name: str) -> str | None:
    """Image ID for an ID (full or short) or a reference."""
    for iid, image in store["images"].items():
        if name in (iid, iid.removeprefix("sha256:")[:12]) or name in image["refs"]:
            return str(iid)
    return None


# --------------------------------------------------------------------------- templates


def render(fmt: str, fields: dict[str, str], labels: dict[str, str] | None = None) -> str:
    """Go template subset: {{.Field}}, {{json .A.B}} (a field given whole, by its dotted name),
    {{.Label "key"}} (`ps`) and {{index .Labels "key"}} (`volume inspect`)."""
    out = re.sub(
        r'\{\{\s*(?:\.Label|index\s+\.Labels)\s+"([^"]+)"\s*\}\}',
        lambda m: (labels or {}).get(m.group(1), ""),
        fmt,
    )
    out = re.sub(r"\{\{\s*json\s+\.([\w.]+)\s*\}\}", lambda m: fields.get(m.group(1), "null"), out)
    return re.sub(r"\{\{\s*\.([\w.]+)\s*\}\}", lambda m: fields.get(m.group(1), ""), out)


def _files(root: Path, rel: str) -> list[Path]:
    p = root / rel
    if p.is_file():
        return [p]
    return sorted(f for f in p.rglob("*") if f.is_file() and "__pycache__" not in f.parts)


def image_id(dockerfile: Path, args: dict[str, str], context: Path) -> str:
    h = hashlib.sha256(dockerfile.read_bytes())
    service = args.get("SERVICE")
    if service and "BUILDER_IMAGE" in args:
        # The demo's service images copy /out/shared and /out/services/<service> from the builder.
        picked = [
            f
            for rel in (*SHARED, f"srvthreds_demo/{service.replace('-', '_')}.py")
            for f in _files(context, rel)
        ]
        args = {k: v for k, v in args.items() if k != "BUILDER_IMAGE"}
    else:
        picked = _files(context, ".")
    h.update(json.dumps(sorted(args.items())).encode())
    for f in picked:
        h.update(str(f.relative_to(context)).encode() + b"\0" + f.read_bytes())
    return "sha256:" + h.hexdigest()


# --------------------------------------------------------------------------- commands


class Exit(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def value_of(argv: list[str], flag: str, default: str | None = None) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv and argv.index(flag) + 1 < len(argv) else default


def cmd_build(store: Store, argv: list[str]) -> str:
    args: dict[str, str] = {}
    dockerfile = iidfile = None
    positional: list[str] = []
    tags: list[str] = []
    quiet = False
    i = 0
    while i < len(argv):
        if argv[i] == "-f":
            dockerfile, i = argv[i + 1], i + 2
        elif argv[i] == "--build-arg":
            k, _, v = argv[i + 1].partition("=")
            args[k], i = v, i + 2
        elif argv[i] == "--iidfile":
            iidfile, i = argv[i + 1], i + 2
        elif argv[i] in ("--target", "--platform"):  # the stage, the platform: part of what is built
            args[argv[i]], i = argv[i + 1], i + 2
        elif argv[i] == "--tag":
            tags.append(argv[i + 1])
            i += 2
        elif argv[i] == "--quiet":  # prints the image ID alone
            quiet, i = True, i + 1
        elif argv[i] == "--force-rm":  # nothing of a failed build stays behind: nothing to fake
            i += 1
        else:
            positional.append(argv[i])
            i += 1
    if not ((iidfile or quiet) and len(positional) == 1):
        raise Exit(125, f"fake docker: unsupported build call {argv}")
    context = Path(positional[0])
    iid = image_id(Path(dockerfile) if dockerfile else context / "Dockerfile", args, context)
    image = store["images"].setdefault(iid, {"refs": [], "created": tick(store)})
    if "--platform" in args:
        image["platform"] = args["--platform"]
    for ref in tags:
        add_tag(store, iid, ref)
    if iidfile:
        Path(iidfile).write_text(iid)
    return iid + "\n" if quiet else f"Successfully built {iid[7:19]}\n"


def cmd_import(store: Store, argv: list[str]) -> str:
    if argv[:1] != ["-"] or len(argv) != 2:
        raise Exit(125, f"fake docker: unsupported import call {argv}")
    iid = "sha256:" + hashlib.sha256(sys.stdin.buffer.read()).hexdigest()
    store["images"].setdefault(iid, {"refs": [], "created": tick(store)})
    add_tag(store, iid, argv[1])
    return iid + "\n"


def cmd_tag(store: Store, argv: list[str]) -> str:
    if len(argv) != 2:
        raise Exit(125, f"fake docker: unsupported tag call {argv}")
    iid = find_image(store, argv[0])
    if iid is None:
        raise Exit(1, f"Error response from daemon: No such image: {argv[0]}")
    add_tag(store, iid, argv[1])
    return ""


def cmd_image_ls(store: Store, argv: list[str]) -> str:
    fmt = value_of(argv, "--format", "{{.Repository}}:{{.Tag}}") or ""
    lines = []
    for iid, image in store["images"].items():
        for ref in image["refs"]:
            repo, tag = ref.rsplit(":", 1)
            shown = iid if "--no-trunc" in argv else iid.removeprefix("sha256:")[:12]
            lines.append(
                render(fmt, {"ID": shown, "Repository": repo, "Tag": tag, "CreatedAt": image["created"]})
            )
    return "".join(line + "\n" for line in lines)


def cmd_image_rm(store: Store, argv: list[str]) -> str:
    out = []
    for name in argv:
        iid = find_image(store, name)
        if iid is None:
            raise Exit(1, f"Error response from daemon: No such image: {name}")
        image = store["images"][iid]
        if name in image["refs"] and len(image["refs"]) > 1:
            image["refs"].remove(name)
            out.append(f"Untagged: {name}")
            continue
        if any(c["image"] == iid for c in store["containers"].values()):
            raise Exit(
                1,
                f"Error response from daemon: conflict: unable to remove repository reference "
                f'"{name}" - container is using its referenced image {iid[7:19]}',
            )
        del store["images"][iid]
        out += [f"Untagged: {r}" for r in image["refs"]] + [f"Deleted: {iid}"]
    return "".join(line + "\n" for line in out)


def ps_image(store: Store, container: dict[str, Any], *, no_trunc: bool) -> str:
    """What `docker ps` prints as a container's image: the reference it was created from while
    that still names its image, else the image's ID (--no-trunc: sha256:<hex>)."""
    ref, iid = container.get("ref", container["image"]), str(container["image"])
    if find_image(store, ref) == iid:
        return str(ref)
    return iid if no_trunc else iid.removeprefix("sha256:")[:12]


def cmd_ps(store: Store, argv: list[str]) -> str:
    wanted: list[list[str]] = []
    i = 0
    while i < len(argv):
        if argv[i] == "--filter":
            key, _, value = argv[i + 1].partition("=")
            if key != "label":
                raise Exit(125, f"fake docker: unsupported ps filter {argv[i + 1]}")
            wanted.append(value.split("=", 1))
            i += 2
        else:
            i += 1
    rows = []
    for cid, c in store["containers"].items():
        if c["state"] != "running" and "-a" not in argv and "-aq" not in argv:
            continue
        if not all(c["labels"].get(k) == v for k, v in wanted):
            continue
        if "-aq" in argv or "-q" in argv:
            rows.append(cid)
            continue
        status = "Up 1 minute" + (f" ({c['health']})" if c.get("health") else "")
        ports = ", ".join(f"0.0.0.0:{p}->{p}/tcp, [::]:{p}->{p}/tcp" for p in c.get("ports", []))
        fields = {
            "ID": cid,
            "Names": cid,
            "State": c["state"],
            "Status": status,
            "Ports": ports,
            "Image": ps_image(store, c, no_trunc="--no-trunc" in argv),
        }
        rows.append(render(value_of(argv, "--format", "{{.ID}}") or "", fields, c["labels"]))
    return "".join(r + "\n" for r in rows)


def health_json(container: dict[str, Any]) -> str:
    """`{{json .State.Health}}`: null without a healthcheck; else the status, the failing
    streak and the log of the last checks (what `health_log` seeded, or one check that
    agrees with the status)."""
    status = container.get("health", "")
    if not status:
        return "null"
    log = container.get("health_log") or [
        {"ExitCode": 1 if status == "unhealthy" else 0, "Output": container.get("health_output", "")}
    ]
    streak = 0
    for entry in reversed(log):
        if entry["ExitCode"] == 0:
            break
        streak += 1
    return json.dumps({"Status": status, "FailingStreak": streak, "Log": log})


def cmd_inspect(store: Store, argv: list[str]) -> str:
    fmt = value_of(argv, "--format", "") or ""
    names = [a for a in argv if a not in ("--format", fmt)]
    out = []
    missing = None
    for name in names:
        container = store["containers"].get(name)
        if container is None:
            missing = missing or name  # like docker: the others are still printed
            continue
        fields = {
            "Image": container["image"],
            "Config.Image": container.get("ref", container["image"]),
            "ID": name,
            "Name": f"/{name}",
            "State.Health": health_json(container),
        }
        out.append(render(fmt, fields))
    text = "".join(line + "\n" for line in out)
    if missing:
        sys.stdout.write(text)
        raise Exit(1, f"Error: No such object: {missing}")
    return text


def cmd_volume(store: Store, argv: list[str]) -> str:
    if argv[:1] == ["inspect"]:
        fmt = value_of(argv, "--format", "") or ""
        names = [a for a in argv[1:] if a not in ("--format", fmt)]
        missing = [n for n in names if n not in store["volumes"]]
        if missing:
            raise Exit(1, f"Error response from daemon: get {missing[0]}: no such volume")
        return "".join(
            render(
                fmt, {"Name": n, "CreatedAt": store["volumes"][n]["created"]}, store["volumes"][n]["labels"]
            )
            + "\n"
            for n in names
        )
    if argv[:1] == ["create"]:
        labels = dict(argv[i + 1].split("=", 1) for i in range(1, len(argv) - 1) if argv[i] == "--label")
        name = argv[-1]
        # Like docker: an existing volume of that name is kept as it is (labels included).
        store["volumes"].setdefault(name, {"created": tick(store), "labels": labels})
        return name + "\n"
    if argv[:2] == ["ls", "-q"]:
        wanted = [f.removeprefix("label=").split("=", 1) for f in argv[2:] if f.startswith("label=")]
        return "".join(
            n + "\n"
            for n, v in store["volumes"].items()
            if all(v["labels"].get(k) == val for k, val in wanted)
        )
    raise Exit(125, f"fake docker: unsupported volume call {argv}")


def _container(store: Store, cid: str) -> dict[str, Any]:
    if cid not in store["containers"]:
        raise Exit(1, f"Error: No such container: {cid}")
    container: dict[str, Any] = store["containers"][cid]
    return container


def cmd_cp(store: Store, argv: list[str]) -> str:
    """`cp <file> <container>:<path>`, or `cp - <container>:<folder>` with a tar on stdin (its
    files, at the folder joined with their names): keeps each file's text and mode (and, from a
    tar, its owner). The daemon writes, as on a real one: the container's state does not
    matter, a read-only root does."""
    if len(argv) != 2 or ":" not in argv[1]:
        raise Exit(125, f"fake docker: unsupported cp call {argv}")
    cid, _, target = argv[1].partition(":")
    container = _container(store, cid)
    if container.get("read_only"):
        raise Exit(1, "Error response from daemon: container rootfs is marked read-only")
    files = container.setdefault("files", {})
    if argv[0] == "-":
        with tarfile.open(fileobj=io.BytesIO(sys.stdin.buffer.read()), mode="r:") as tar:
            for member in tar.getmembers():
                data = tar.extractfile(member) if member.isfile() else None
                if data is None:
                    raise Exit(125, f"fake docker: only files in a cp tar, not {member.name}")
                path = "/" + str(PurePosixPath(target.lstrip("/"), member.name))
                owner, mode = f"{member.uid}:{member.gid}", oct(member.mode & 0o777)
                files[path] = {"text": data.read().decode(), "mode": mode, "owner": owner}
        return ""
    source = Path(argv[0])
    if not source.is_file():
        raise Exit(1, f"lstat {source}: no such file or directory")
    files[target] = {"text": source.read_text(), "mode": oct(source.stat().st_mode & 0o777)}
    return ""


def cmd_exec(store: Store, argv: list[str]) -> str:
    """`exec <container> <argv...>`: recorded; a command in the container's `exec_fails` exits 1."""
    container = _container(store, argv[0])
    if container["state"] != "running":
        raise Exit(1, f"Error response from daemon: Container {argv[0]} is not running")
    container.setdefault("execs", []).append(argv[1:])
    if " ".join(argv[1:]) in container.get("exec_fails", []):
        raise Exit(1, "")
    return ""


def cmd_restart(store: Store, argv: list[str]) -> str:
    """`restart [--time N] <container>...`: counted per container; its files stay."""
    names = [a for i, a in enumerate(argv) if a != "--time" and (i == 0 or argv[i - 1] != "--time")]
    for cid in names:
        container = _container(store, cid)
        container["state"] = "running"
        container["restarts"] = container.get("restarts", 0) + 1
    return "".join(n + "\n" for n in names)


def label(argv: list[str]) -> str:
    """The command, as MUTATING names it."""
    if argv[:1] == ["image"] and len(argv) > 1:
        return f"image {argv[1]}"
    return argv[0] if argv else ""


def run(argv: list[str]) -> str:
    state = Path(os.environ[STATE_ENV])
    command = label(argv)
    if command == "version":
        return "24.0.7-fake\n"  # the preflight (tasks/ops/doctor.py) asks the daemon for its version
    if command == "manifest":
        return ""  # every image is "already in the registry": push becomes a no-op
    with transaction(store_path(state)) as store:
        if command == "build":
            return cmd_build(store, argv[1:])
        if command == "import":
            return cmd_import(store, argv[1:])
        if command == "tag":
            return cmd_tag(store, argv[1:])
        if command in ("image ls", "images"):
            return cmd_image_ls(store, argv[2:] if command == "image ls" else argv[1:])
        if command in ("image rm", "rmi"):
            return cmd_image_rm(store, argv[2:] if command == "image rm" else argv[1:])
        if command == "ps":
            return cmd_ps(store, argv[1:])
        if command == "inspect":
            return cmd_inspect(store, argv[1:])
        if command == "volume":
            return cmd_volume(store, argv[1:])
        if command in ("cp", "exec", "restart"):
            return {"cp": cmd_cp, "exec": cmd_exec, "restart": cmd_restart}[command](store, argv[1:])
    raise Exit(125, f"fake docker: unsupported call {argv}")


def main(argv: list[str]) -> int:
    try:
        out, code = run(argv), 0
    except Exit as exc:
        out, code = "", exc.code
        sys.stderr.write(exc.message + "\n")
    sys.stdout.write(out)
    sys.stdout.flush()
    harness.log_call(
        harness.log_from_env(),
        "docker",
        argv,
        code == 0 and label(argv) in MUTATING,
        code,
        docker_host=os.environ.get("DOCKER_HOST", "local"),
    )
    return code


# --------------------------------------------------------------------------- test-side handle


class FakeDocker:
    """Inspect and seed the fake daemon's store (the same JSON the fake reads)."""

    def __init__(self, state_dir: Path, log: Path) -> None:
        self.state_dir, self.log = state_dir, log

    def store(self, host: str | None = None) -> Store:
        path = store_path(self.state_dir, host)
        data: Store = json.loads(path.read_text()) if path.exists() else empty()
        return data

    def refs(self, host: str | None = None) -> list[str]:
        return sorted(r for image in self.store(host)["images"].values() for r in image["refs"])

    def platform(self, ref: str, host: str | None = None) -> str | None:
        """The platform an image was built for with `--platform` (None: the host's)."""
        found = [image for image in self.store(host)["images"].values() if ref in image["refs"]]
        assert len(found) == 1, f"no image {ref}"
        platform = found[0].get("platform")
        return str(platform) if platform else None

    def add_image(
        self, ref: str, iid: str | None = None, created: str | None = None, host: str | None = None
    ) -> str:
        iid = iid or "sha256:" + hashlib.sha256(ref.encode()).hexdigest()
        with transaction(store_path(self.state_dir, host)) as store:
            store["images"].setdefault(iid, {"refs": [], "created": created or tick(store)})
            add_tag(store, iid, ref)
        return iid

    def untag(self, ref: str, host: str | None = None) -> None:
        """Drop one reference behind the product's back, as `docker rmi REF` of one of several
        tags or a prune would: the image ID stays, the name is gone."""
        with transaction(store_path(self.state_dir, host)) as store:
            iid = find_image(store, ref)
            if iid is None or ref not in store["images"][iid]["refs"]:
                raise KeyError(f"fake docker: no image tagged {ref}")
            store["images"][iid]["refs"].remove(ref)

    def add_container(
        self,
        cid: str,
        image: str,
        *,
        state: str = "exited",
        labels: dict[str, str] | None = None,
        health: str = "",
        ports: list[int] | None = None,
        host: str | None = None,
    ) -> None:
        with transaction(store_path(self.state_dir, host)) as store:
            iid = find_image(store, image) or image
            store["containers"][cid] = {
                "image": iid,
                "ref": image,
                "state": state,
                "labels": labels or {},
                "health": health,
                "ports": ports or [],
            }

    def write_to_volume(self, name: str, host: str | None = None) -> None:
        """A database writes to its data volume: on Docker 20.10 the volume's CreatedAt is the
        time of its `_data` folder, so it moves (its labels do not)."""
        with transaction(store_path(self.state_dir, host)) as store:
            store["volumes"][name]["created"] = tick(store)

    def volume_labels(self, name: str, host: str | None = None) -> dict[str, str]:
        return dict(self.store(host)["volumes"][name]["labels"])

    def update_container(self, cid: str, host: str | None = None, **fields: Any) -> None:
        """Change a container behind the product's back (e.g. health="unhealthy")."""
        with transaction(store_path(self.state_dir, host)) as store:
            store["containers"][cid].update(fields)

    def calls(self) -> list[harness.Call]:
        return harness.read_calls(self.log, "docker")

    def argvs(self) -> list[list[str]]:
        return [c["argv"] for c in self.calls()]

    def mutating_calls(self) -> list[harness.Call]:
        return [c for c in self.calls() if c["mutating"]]

    def builds(self) -> list[str]:
        """The SERVICE (or dockerfile) of every `docker build` call, in order."""
        out = []
        for argv in self.argvs():
            if argv and argv[0] == "build":
                service = next((a.split("=", 1)[1] for a in argv if a.startswith("SERVICE=")), None)
                out.append(service or argv[argv.index("-f") + 1])
        return out


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
