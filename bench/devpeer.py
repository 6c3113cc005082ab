"""The peer of bench/devloop.py: `docker compose watch` and `docker compose up --build`, on the
demo's own Dockerfiles made one multi-stage file, timed on the same change."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from devchange import ENV, Background, Change, NotServed, say

from compose import bench_env, plain_up, run
from tasks.store import images

# --------------------------------------------------------------------------- the peer


def peer_dockerfile(project: Path) -> Path:
    """The builder and service Dockerfiles as one file: the builder is the stage `peerbuilder`."""
    docker = project / "demo" / "docker"
    drop = re.compile(r"^ARG (BASE_IMAGE|BUILDER_IMAGE)\b.*\n", re.M)
    builder = drop.sub("", (docker / "Dockerfile.builder").read_text())
    builder = builder.replace("FROM ${BASE_IMAGE}\n", "FROM ${BASE_IMAGE} AS peerbuilder\n", 1)
    service = drop.sub("", (docker / "Dockerfile.service").read_text())
    path = project / ".build" / "bench" / "Dockerfile.peer"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("ARG BASE_IMAGE\nARG BUILDER_IMAGE=peerbuilder\n" + builder + "\n" + service)
    return path


def peer_override(project: Path, action: str) -> Path:
    """build: and develop.watch for the demo's services, with rules like `doit dev`'s: the
    service's module (`action`: rebuild, or sync+restart to where the image has it), its test
    file and the shared code (rebuild)."""
    base = (project / ".build" / ENV / "images" / "base.ref").read_text().strip()
    dockerfile = peer_dockerfile(project)
    demo = project / "demo"
    services = {}
    for name, module in (("engine", "engine"), ("session-agent", "session_agent")):
        rule: dict[str, str] = {"action": action, "path": str(demo / "srvthreds_demo" / f"{module}.py")}
        if action != "rebuild":
            rule["target"] = f"/app/srvthreds_demo/{module}.py"
        rebuild = [demo / "srvthreds_demo" / "common", demo / "tests" / f"test_{module}.py"]
        services[name] = {
            "image": f"srvthreds/{name}:peer",
            "build": {
                "context": str(demo),
                "dockerfile": str(dockerfile),
                "args": {"BASE_IMAGE": base, "UID": "10001", "SERVICE": name},
            },
            "develop": {"watch": [rule, *({"action": "rebuild", "path": str(p)} for p in rebuild)]},
        }
    path = project / ".build" / "bench" / f"peer-{action.replace('+', '-')}.yml"
    path.write_text(json.dumps({"services": services}, indent=2))
    return path


def peer_env(project: Path) -> dict[str, str]:
    refs = {p.stem: p.read_text().strip() for p in (project / ".build" / ENV / "images").glob("*.ref")}
    return {**bench_env(), **{images.image_var(name): ref for name, ref in refs.items()}}


def compose_argv(project: Path, override: Path, *command: str) -> list[str]:
    argv = plain_up(project, ENV)
    at = argv.index("up")
    return [*argv[:at], "-f", str(override), *command]


def peer_rows(project: Path, change: Change, n: int) -> dict[str, list[float]]:
    """`docker compose up -d --build --wait` typed again, then `docker compose watch` with a
    `rebuild` rule (the change with its test file), then with a `sync+restart` rule."""
    env = peer_env(project)
    rebuild = peer_override(project, "rebuild")
    up = compose_argv(project, rebuild, "up", "-d", "--build", "--wait", "engine", "session-agent")
    run(up, project, env)  # the peer's images built once, untimed
    out: dict[str, list[float]] = {
        "no watcher": [change.timed(lambda: run(up, project, env)) for _ in range(n)]
    }
    say(f"peer: no watcher {out['no watcher']}")
    for row, action, outside in (("rebuild", "rebuild", True), ("live sync", "sync+restart", False)):
        watch = Background(
            compose_argv(project, peer_override(project, action), "watch", "--no-up"), project, env, "atch"
        )
        change.outside = outside
        try:
            out[row] = []
            for _ in range(n):
                try:
                    out[row].append(change.timed(timeout=120))
                except NotServed as exc:
                    # The peer may fail where we do not (Docker 20.10 refuses compose watch's
                    # copy into a container whose user is a bare UID:GID): say why, go on.
                    failed = [line for line in watch.text().splitlines() if "level=warning" in line]
                    say(f"peer: {row} failed: {exc}; compose watch said: {failed[-1:] or 'nothing'}")
                    break
                time.sleep(2)  # the watch's own restart or rebuild settles before the next change
            say(f"peer: {row} {out[row]}")
        finally:
            change.outside = False
            watch.stop()
    return out
