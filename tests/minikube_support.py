"""Test support for the Minikube pipeline: a recording fake `docker` and a test environment.

The fake `docker` implements only what stackbuild's image tasks call (`build --iidfile`,
`tag`, `image ls`). Image IDs are deterministic and follow the real layering of
demo/docker/Dockerfile.service: a service image depends on the shared code and *its own*
module only (not on the builder image ID), so editing one service's module changes
exactly one service image, as the layer cache does with a real daemon. Each
DOCKER_HOST gets its own image store, so a docker-env build (Minikube's daemon) is
separate from a local one.

Run as a script, this file *is* the fake docker (the wrapper written by install_docker).
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from pathlib import Path

# An environment whose databases need no host Compose (option B, except rabbitmq in the
# cluster), with the image-load strategy so every image transfer is visible to the fakes.
TEST_ENV = "mktest"
TEST_ENV_YAML = """\
runtime: kubernetes
host_address: host.minikube.internal
placement: {mongodb: external, redis: external, rabbitmq: cluster}
endpoints: {mongodb: "mongo.example.test:27017", redis: "redis.example.test:6379"}
config: {NODE_ENV: development, LOG_LEVEL: DEBUG}
minikube:
  profile: mktest
  image_strategy: %(strategy)s
"""
SHARED = ("srvthreds_demo/common", "srvthreds_demo/__init__.py", "srvthreds_demo/__main__.py")


def write_test_env(project: Path, strategy: str = "image-load") -> str:
    """Add environments/mktest.yaml and its rendered overlay to a project copy, as a user
    would have after `doit render` (so the first minikube_up run starts from committed files)."""
    from tasks import config, render
    (project / "environments" / f"{TEST_ENV}.yaml").write_text(TEST_ENV_YAML % {"strategy": strategy})
    old = Path.cwd()
    os.chdir(project)  # templates are found relative to the project root, as under doit
    try:
        outputs = render.texts(render.k8s_overlay(config.load(TEST_ENV, project), config.load(None, project)))
        render.write_all(outputs, project)
    finally:
        os.chdir(old)
    return TEST_ENV


def install_docker(bin_dir: Path, state_dir: Path) -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    state_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / "docker"
    path.write_text(f'#!/bin/sh\nFAKE_DOCKER_STATE="{state_dir}" exec "{sys.executable}" "{Path(__file__).resolve()}" "$@"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def docker_calls(state_dir: Path) -> list[list[str]]:
    log = state_dir / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def builds(state_dir: Path) -> list[str]:
    """The SERVICE (or dockerfile) of every `docker build` call, in order."""
    out = []
    for argv in docker_calls(state_dir):
        if argv and argv[0] == "build":
            service = next((a.split("=", 1)[1] for a in argv if a.startswith("SERVICE=")), None)
            out.append(service or argv[argv.index("-f") + 1])
    return out


# --------------------------------------------------------------------------- the fake


def _store(state: Path) -> Path:
    host = os.environ.get("DOCKER_HOST", "local")
    return state / f"images-{hashlib.sha256(host.encode()).hexdigest()[:8]}.json"


def _files(root: Path, rel: str) -> list[Path]:
    p = root / rel
    if p.is_file():
        return [p]
    return sorted(f for f in p.rglob("*") if f.is_file() and "__pycache__" not in f.parts)


def _image_id(dockerfile: Path, args: dict[str, str], context: Path) -> str:
    h = hashlib.sha256(dockerfile.read_bytes())
    service = args.get("SERVICE")
    if service:
        # Service images copy /out/shared and /out/services/<service> from the builder.
        picked = [f for rel in (*SHARED, f"srvthreds_demo/{service.replace('-', '_')}.py")
                  for f in _files(context, rel)]
        args = {k: v for k, v in args.items() if k != "BUILDER_IMAGE"}
    else:
        picked = _files(context, ".")
    h.update(json.dumps(sorted(args.items())).encode())
    for f in picked:
        h.update(str(f.relative_to(context)).encode() + b"\0" + f.read_bytes())
    return "sha256:" + h.hexdigest()


def main(argv: list[str]) -> int:
    state = Path(os.environ["FAKE_DOCKER_STATE"])
    with (state / "calls.jsonl").open("a") as log:
        log.write(json.dumps(argv) + "\n")
    store = _store(state)
    images: dict[str, list[str]] = json.loads(store.read_text()) if store.exists() else {}
    if argv[:1] == ["build"]:
        args: dict[str, str] = {}
        dockerfile = iidfile = None
        rest = argv[1:]
        i = 0
        positional = []
        while i < len(rest):
            if rest[i] == "-f":
                dockerfile, i = rest[i + 1], i + 2
            elif rest[i] == "--build-arg":
                k, _, v = rest[i + 1].partition("=")
                args[k], i = v, i + 2
            elif rest[i] == "--iidfile":
                iidfile, i = rest[i + 1], i + 2
            else:
                positional.append(rest[i])
                i += 1
        if not (dockerfile and iidfile and len(positional) == 1):
            sys.stderr.write(f"fake docker: unsupported build call {argv}\n")
            return 125
        iid = _image_id(Path(dockerfile), args, Path(positional[0]))
        images.setdefault(iid, [])
        Path(iidfile).write_text(iid)
        print(f"Successfully built {iid[7:19]}")
    elif argv[:1] == ["tag"] and len(argv) == 3:
        if argv[1] not in images:
            sys.stderr.write(f"Error response from daemon: No such image: {argv[1]}\n")
            return 1
        for refs in images.values():
            if argv[2] in refs:
                refs.remove(argv[2])
        images[argv[1]].append(argv[2])
    elif argv[:1] == ["version"]:
        print("24.0.7-fake")  # the preflight (tasks/ops/doctor.py) asks the daemon for its version
    elif argv[:2] == ["manifest", "inspect"]:
        return 0  # every image is "already in the registry": push becomes a no-op
    elif argv[:2] == ["image", "ls"]:
        fmt = argv[argv.index("--format") + 1] if "--format" in argv else "{{.Repository}}:{{.Tag}}"
        for iid, refs in images.items():
            for ref in refs:
                repo, tag = ref.rsplit(":", 1)
                print(fmt.replace("{{.ID}}", iid).replace("{{.Repository}}", repo).replace("{{.Tag}}", tag))
    else:
        sys.stderr.write(f"fake docker: unsupported call {argv}\n")
        return 125
    store.write_text(json.dumps(images))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
