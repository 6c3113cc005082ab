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


# The peers' live sync rows: the rule `docker compose watch` gets for the module, and the
# command its `sync+exec` runs: the demo's own rule's (environments/offline.yaml), through
# `sh -c` as doit runs it (Compose runs argv as is, and the slim images have no /bin/kill).
SYNC_ROWS = {"live sync": "sync+restart", "live sync, sync+exec": "sync+exec"}
RELOAD = ["sh", "-c", "kill -HUP 1"]
SERVICES = ("engine", "session-agent")
# The user the peer's synced containers run as. Compose watch copies with the container's
# user as the files' owner, and Docker 20.10 looks that user up in the passwd database of the
# daemon's HOST (not the image's, which has the demo's user): the stack's "10001:10001" is
# refused ("getent unable to find entry"). 65534 (nobody) exists on both: non-root, and the
# image's code is readable by every user.
PEER_SYNC_USER = "65534"


def peer_override(project: Path, action: str) -> Path:
    """build: and develop.watch for the demo's services, with rules like `doit dev`'s: the
    service's module (`action`: rebuild, sync+restart or sync+exec to where the image has it),
    its test file and the shared code (rebuild)."""
    base = (project / ".build" / ENV / "images" / "base.ref").read_text().strip()
    dockerfile = peer_dockerfile(project)
    demo = project / "demo"
    services = {}
    for name, module in (("engine", "engine"), ("session-agent", "session_agent")):
        rule: dict[str, object] = {"action": action, "path": str(demo / "srvthreds_demo" / f"{module}.py")}
        if action != "rebuild":
            rule["target"] = f"/app/srvthreds_demo/{module}.py"
        if action == "sync+exec":
            rule["exec"] = {"command": RELOAD}
        rebuild = [demo / "srvthreds_demo" / "common", demo / "tests" / f"test_{module}.py"]
        services[name] = {
            "image": f"srvthreds/{name}:peer",
            "build": {
                "context": str(demo),
                "dockerfile": str(dockerfile),
                "args": {"BASE_IMAGE": base, "UID": "10001", "SERVICE": name},
            },
            "develop": {"watch": [rule, *({"action": "rebuild", "path": str(p)} for p in rebuild)]},
            **({"user": PEER_SYNC_USER} if action != "rebuild" else {}),
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


PEER_ROWS = ("no watcher", "rebuild", *SYNC_ROWS)


def peer_rows(
    project: Path, change: Change, n: int, rows: tuple[str, ...] = PEER_ROWS
) -> dict[str, list[float]]:
    """`docker compose up -d --build --wait` typed again, then `docker compose watch` with a
    `rebuild` rule (the change with its test file), then with a `sync+restart` rule and with a
    `sync+exec` rule (the change alone): those of `rows`."""
    env = peer_env(project)
    rebuild = peer_override(project, "rebuild")
    up = compose_argv(project, rebuild, "up", "-d", "--build", "--wait", *SERVICES)
    run(up, project, env)  # the peer's images built once, untimed
    out: dict[str, list[float]] = {}
    if "no watcher" in rows:
        out["no watcher"] = [change.timed(lambda: run(up, project, env)) for _ in range(n)]
        say(f"peer: no watcher {out['no watcher']}")
    for row in rows:
        if row != "no watcher":
            out[row] = watch_row(project, change, n, env, row)
    return out


def watch_row(project: Path, change: Change, n: int, env: dict[str, str], row: str) -> list[float]:
    """n changes under `docker compose watch` with the row's rule, its containers created for
    that rule first (untimed: a sync row's run as PEER_SYNC_USER)."""
    action = SYNC_ROWS.get(row, "rebuild")
    override = peer_override(project, action)
    run(compose_argv(project, override, "up", "-d", "--wait", *SERVICES), project, env)
    watch = Background(compose_argv(project, override, "watch", "--no-up"), project, env, "atch")
    change.outside = action == "rebuild"
    times: list[float] = []
    try:
        for _ in range(n):
            try:
                times.append(change.timed(timeout=120))
            except NotServed as exc:
                # The peer may fail where we do not: say why, go on.
                failed = [line for line in watch.text().splitlines() if "level=warning" in line]
                say(f"peer: {row} failed: {exc}; compose watch said: {failed[-1:] or 'nothing'}")
                break
            time.sleep(2)  # the watch's own restart or rebuild settles before the next change
        say(f"peer: {row} {times}")
    finally:
        change.outside = False
        watch.stop()
    return times
