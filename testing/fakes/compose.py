"""The fake `docker-compose`: `up`, `down`, `ps`, `run`, `logs`, `config` on the fake docker's store.

Containers and volumes live in the fake docker's store (testing/fakes/docker.py), so the
fake `docker ps` and `docker volume inspect` see what `up` started, as with the real pair.
Knobs for failure tests (environment variables, read at call time):
- FAKE_COMPOSE_UNHEALTHY=<service>: `up` starts it unhealthy and fails like `up --wait`;
  its health check said FAKE_COMPOSE_HEALTH_OUTPUT (Docker's health log, `docker inspect`);
- FAKE_COMPOSE_RUN_FAIL=<text>: `run` prints it on stderr and exits 1.

Run as `python -m testing.fakes.compose` by the wrapper `install` writes.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from testing import harness
from testing.fakes import docker

MUTATING = {"up", "down", "run"}
GLOBAL_FLAGS = {"--project-directory", "-f", "--file", "--env-file", "-p", "--project-name"}


def install(bin_dir: Path, state_dir: Path, log: Path | None = None) -> Path:
    """Put the fake `docker-compose` into bin_dir, sharing the fake docker's store in state_dir."""
    state_dir.mkdir(parents=True, exist_ok=True)
    return harness.install(
        bin_dir,
        "docker-compose",
        "testing.fakes.compose",
        env={docker.STATE_ENV: str(state_dir), harness.CALLS_ENV: str(log or state_dir / "calls.jsonl")},
    )


class Exit(Exception):
    def __init__(self, code: int, message: str, out: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.out = code, message, out


def split(argv: list[str]) -> tuple[dict[str, list[str]], str, list[str]]:
    """Global flags (all take one value), the command, its arguments."""
    flags: dict[str, list[str]] = {}
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] not in GLOBAL_FLAGS or i + 1 >= len(argv):
            raise Exit(1, f"unknown flag: {argv[i]}")
        flags.setdefault(argv[i], []).append(argv[i + 1])
        i += 2
    if i >= len(argv):
        raise Exit(1, "no command given")
    return flags, argv[i], argv[i + 1 :]


def project_of(flags: dict[str, list[str]]) -> tuple[str, dict[str, Any]]:
    """Project name and merged services/volumes of the -f files (the `name:` key, as compose)."""
    merged: dict[str, Any] = {"services": {}, "volumes": {}}
    name = ""
    for path in flags.get("-f", []) + flags.get("--file", []):
        doc = yaml.safe_load(Path(path).read_text()) or {}
        name = doc.get("name", name)
        merged["services"].update(doc.get("services") or {})
        merged["volumes"].update(doc.get("volumes") or {})
    name = (flags.get("-p") or flags.get("--project-name") or [name])[-1]
    if not name:
        raise Exit(1, "project name missing: no `name:` in the compose files and no -p")
    return name, merged


def image_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.endswith("_IMAGE")}


def cmd_up(store: docker.Store, project: str, spec: dict[str, Any], args: list[str]) -> str | None:
    """Start the services; the failure `up --wait` reports, if one comes up unhealthy."""
    names = [a for a in args if not a.startswith("-") and not a.isdigit()]
    unhealthy = os.environ.get("FAKE_COMPOSE_UNHEALTHY", "")
    for volume in spec["volumes"]:
        store["volumes"].setdefault(
            f"{project}_{volume}",
            {"created": docker.tick(store), "labels": {"com.docker.compose.project": project}},
        )
    for name in names or list(spec["services"]):
        if name not in spec["services"]:
            raise Exit(1, f"no such service: {name}")
        ref = os.environ.get(name.upper().replace("-", "_") + "_IMAGE", name)
        store["containers"][f"{project}-{name}-1"] = {
            "image": docker.find_image(store, ref) or ref,
            "ref": ref,
            "state": "running",
            "health": "unhealthy" if name == unhealthy else "healthy",
            "health_output": os.environ.get("FAKE_COMPOSE_HEALTH_OUTPUT", "") if name == unhealthy else "",
            "ports": [],
            "labels": {"com.docker.compose.project": project, "com.docker.compose.service": name},
        }
    if unhealthy in names:
        return f" Container {project}-{unhealthy}-1 Started\ncontainer {project}-{unhealthy}-1 is unhealthy"
    return None


def cmd_down(store: docker.Store, project: str, args: list[str]) -> None:
    for cid in [
        c for c, v in store["containers"].items() if v["labels"].get("com.docker.compose.project") == project
    ]:
        del store["containers"][cid]
    if "--volumes" in args or "-v" in args:
        for name in [
            n for n, v in store["volumes"].items() if v["labels"].get("com.docker.compose.project") == project
        ]:
            del store["volumes"][name]


def cmd_ps(store: docker.Store, project: str) -> str:
    rows = [
        {
            "Name": cid,
            "Service": c["labels"]["com.docker.compose.service"],
            "State": c["state"],
            "Health": c["health"],
            "Image": c.get("ref", ""),
        }
        for cid, c in store["containers"].items()
        if c["labels"].get("com.docker.compose.project") == project
    ]
    return "".join(json.dumps(r) + "\n" for r in rows)


def run(argv: list[str]) -> str:
    flags, command, args = split(argv)
    project, spec = project_of(flags)
    if command == "config":
        env_file = (flags.get("--env-file") or [""])[-1]
        values = dict(line.split("=", 1) for line in Path(env_file).read_text().splitlines() if "=" in line)
        secret = values.get("RABBITMQ_PASSWORD", "")
        return f"services:\n  rabbitmq:\n    environment:\n      RABBITMQ_PASSWORD: {secret}\n"
    if command == "logs":
        names = [a for a in args if not a.startswith("-") and not a.isdigit()]
        # Every service's lines without names (`compose_logs`), as Compose prints them.
        return "".join(
            f"{name}-1  | {name}: something went wrong\n" for name in names or list(spec["services"])
        )
    if command == "run":
        failure = os.environ.get("FAKE_COMPOSE_RUN_FAIL")
        if failure:
            raise Exit(1, failure)
        return ""
    with docker.transaction(docker.store_path(Path(os.environ[docker.STATE_ENV]))) as store:
        if command == "up":
            failure = cmd_up(store, project, spec, args)
            if failure is None:
                return ""
        elif command == "down":
            cmd_down(store, project, args)
            return ""
        elif command == "ps":
            return cmd_ps(store, project)
    if command == "up":  # the unhealthy container stays, as with the real `up --wait`
        raise Exit(1, failure or "")
    raise Exit(1, f"fake docker-compose: unsupported command {command!r}")


def main(argv: list[str]) -> int:
    try:
        out, code = run(argv), 0
    except Exit as exc:
        out, code = exc.out, exc.code
        sys.stderr.write(exc.message + "\n")
    sys.stdout.write(out)
    sys.stdout.flush()
    try:
        command = split(argv)[1]
    except Exit:
        command = ""
    harness.log_call(
        harness.log_from_env(),
        "docker-compose",
        argv,
        code == 0 and command in MUTATING,
        code,
        images=image_env(),
    )
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
