"""Stateful fake `minikube` (see README.md), run as `python -m testing.fakes.minikube`.

Supports only the calls stackbuild makes.

Exit codes follow minikube's reason codes where known: 85 = profile not found
(GUEST_PROFILE/ExGuestNotFound), 7 = status bitmask (host|kubelet|apiserver stopped),
14 = usage error (cobra errors make minikube exit with ExProgramUsage).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from testing.fakes import k8sstate as fs
from testing.fakes.cli import Opts, Spec, UsageError, last, parse_flags

EX_USAGE = 14
EX_GUEST_NOT_RUNNING = 80
EX_PROFILE_NOT_FOUND = 85
EX_DRIVER_UNSUPPORTED = 51
EX_INSUFFICIENT = 29

GLOBAL: Spec = {"-p": ("profile", True), "--profile": ("profile", True)}
KNOWN_DRIVERS = {
    "docker",
    "podman",
    "virtualbox",
    "kvm2",
    "qemu2",
    "qemu",
    "hyperkit",
    "vfkit",
    "hyperv",
    "parallels",
    "vmware",
    "none",
    "ssh",
    "krunkit",
}
COMMANDS: dict[str, Spec] = {
    "status": {"-o": ("output", True), "--output": ("output", True)},
    "start": {
        "--driver": ("driver", True),
        "--cpus": ("cpus", True),
        "--memory": ("memory", True),
        "--disk-size": ("disk", True),
        "--kubernetes-version": ("version", True),
    },
    "addons": {"-o": ("output", True), "--output": ("output", True)},
    "docker-env": {"--shell": ("shell", True)},
    "image": {"--format": ("format", True)},
    "delete": {},
    "ip": {},
}
MUTATING = {"start", "addons enable", "image load", "delete"}


class Exit(Exception):
    def __init__(self, code: int, stderr: str = "", stdout: str = "") -> None:
        super().__init__(code)
        self.code, self.stderr, self.stdout = code, stderr, stdout


def not_found(profile: str) -> Exit:
    hint = "minikube start" if profile == fs.DEFAULT_PROFILE else f"minikube start -p {profile}"
    return Exit(
        EX_PROFILE_NOT_FOUND,
        stdout=f'* Profile "{profile}" not found. Run "minikube profile list" to view all profiles.\n'
        f'  To start a cluster, run: "{hint}"\n',
    )


def require_cluster(state: fs.State, profile: str, running: bool = True) -> fs.State:
    cluster: fs.State | None = state["clusters"].get(profile)
    if cluster is None:
        raise not_found(profile)
    if running and cluster["status"] != "Running":
        raise Exit(
            EX_GUEST_NOT_RUNNING,
            stdout=f"* The control-plane node {profile} host is not running: state={cluster['status']}\n"
            f'  To start a cluster, run: "minikube start -p {profile}"\n',
        )
    return cluster


def parse_memory(value: str) -> int:
    m = re.fullmatch(r"(\d+)\s*(b|k|kb|m|mb|g|gb)?", value.strip().lower())
    if not m:
        raise Exit(EX_USAGE, stderr=f"X Exiting due to MK_USAGE: Invalid memory value: {value!r}\n")
    n, unit = int(m.group(1)), m.group(2) or "mb"
    factor = {"b": 1 / 2**20, "k": 1 / 1024, "kb": 1 / 1024, "m": 1, "mb": 1, "g": 1024, "gb": 1024}[unit]
    return int(n * factor)


def version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", v)[:3])


def cmd_status(state: fs.State, profile: str, opts: Opts) -> tuple[int, str]:
    output = last(opts, "output", "text")
    if output not in ("text", "json"):
        raise Exit(
            EX_USAGE,
            stderr=f"X Exiting due to MK_USAGE: invalid output format: {output}. "
            "Valid values: 'text', 'json'\n",
        )
    cluster = require_cluster(state, profile, running=False)
    running = cluster["status"] == "Running"
    host = "Running" if running else "Stopped"
    st: dict[str, Any] = {
        "Name": profile,
        "Host": host,
        "Kubelet": host,
        "APIServer": host,
        "Kubeconfig": "Configured" if running else "Stopped",
        "Worker": False,
    }
    if output == "json":
        text = json.dumps(st) + "\n"
    else:
        text = (
            f"{profile}\ntype: Control Plane\nhost: {st['Host']}\nkubelet: {st['Kubelet']}\n"
            f"apiserver: {st['APIServer']}\nkubeconfig: {st['Kubeconfig']}\n\n"
        )
    return (0 if running else 7), text


def cmd_start(state: fs.State, profile: str, opts: Opts) -> str:
    driver = last(opts, "driver")
    cpus_raw = last(opts, "cpus")
    memory_raw = last(opts, "memory")
    disk = last(opts, "disk")
    version = last(opts, "version")
    if driver is not None and driver not in KNOWN_DRIVERS:
        raise Exit(
            EX_DRIVER_UNSUPPORTED,
            stderr=f"X Exiting due to DRV_UNSUPPORTED_OS: "
            f"The driver '{driver}' is not supported on linux/amd64\n",
        )
    cpus: int | None = None
    if cpus_raw is not None:
        if not cpus_raw.isdigit():
            raise Exit(
                EX_USAGE,
                stderr=f'X Exiting due to MK_USAGE: invalid argument "{cpus_raw}" for "--cpus" flag\n',
            )
        cpus = int(cpus_raw)
        if cpus < 2:
            raise Exit(
                EX_INSUFFICIENT,
                stderr=f"X Exiting due to RSRC_INSUFFICIENT_CORES: "
                f"Requested cpu count {cpus} is less than the minimum allowed of 2\n",
            )
    memory = parse_memory(memory_raw) if memory_raw is not None else None
    if memory is not None and memory < 1800:
        raise Exit(
            23,
            stderr="X Exiting due to RSRC_INSUFFICIENT_REQ_MEMORY: "
            f"Requested memory allocation {memory}MiB is less than the usable minimum of 1800MB\n",
        )
    if disk is not None and not re.fullmatch(r"\d+(m|mb|g|gb)?", disk.lower()):
        raise Exit(EX_USAGE, stderr=f"X Exiting due to MK_USAGE: Invalid disk size: {disk}\n")
    if (
        version is not None
        and not re.fullmatch(r"v?\d+\.\d+(\.\d+)?", version)
        and version not in ("stable", "latest")
    ):
        raise Exit(EX_USAGE, stderr=f"X Exiting due to MK_USAGE: Unable to parse version {version!r}\n")

    out = [f"* [{profile}] minikube {fs.MINIKUBE_VERSION} on Linux"]
    cluster: fs.State | None = state["clusters"].get(profile)
    if cluster is None:
        norm_version = (
            fs.DEFAULT_K8S_VERSION if version in (None, "stable", "latest") else "v" + version.lstrip("v")
        )
        cluster = fs.new_cluster(
            profile, driver or "docker", cpus or 2, memory or 4096, disk or "20000mb", norm_version
        )
        state["clusters"][profile] = cluster
        out.append(f"* Using the {cluster['driver']} driver based on user configuration")
        out.append(f'* Starting "{profile}" primary control-plane node in "{profile}" cluster')
        out.append(
            f"* Creating {cluster['driver']} container "
            f"(CPUs={cluster['cpus']}, Memory={cluster['memory']}MB) ..."
        )
    else:
        if driver is not None and driver != cluster["driver"]:
            raise Exit(
                80,
                stderr="X Exiting due to GUEST_DRIVER_MISMATCH: "
                f'The existing "{profile}" cluster was created using the '
                f'"{cluster["driver"]}" driver, which is incompatible with requested "{driver}" driver.\n',
            )
        # Real minikube keeps the original resources and only warns; drift must be caught by the product.
        if cpus is not None and cpus != cluster["cpus"]:
            out.append(
                "! You cannot change the CPUs for an existing minikube cluster. "
                "Please first delete the cluster."
            )
        if memory is not None and memory != cluster["memory"]:
            out.append(
                "! You cannot change the memory size for an existing minikube cluster. "
                "Please first delete the cluster."
            )
        if disk is not None and disk != cluster["disk_size"]:
            out.append(
                "! You cannot change the disk size for an existing minikube cluster. "
                "Please first delete the cluster."
            )
        if version is not None and version not in ("stable", "latest"):
            want = "v" + version.lstrip("v")
            if version_tuple(want) < version_tuple(cluster["kubernetes_version"]):
                raise Exit(
                    106,
                    stderr="X Exiting due to K8S_DOWNGRADE_UNSUPPORTED: "
                    "Unable to safely downgrade existing Kubernetes "
                    f"{cluster['kubernetes_version']} cluster to {want}\n",
                )
            cluster["kubernetes_version"] = want
        out.append(f"* Using the {cluster['driver']} driver based on existing profile")
        out.append(f'* Starting "{profile}" primary control-plane node in "{profile}" cluster')
        if cluster["status"] == "Running":
            out.append(f'* Updating the running {cluster["driver"]} "{profile}" container ...')
        else:
            out.append(f'* Restarting existing {cluster["driver"]} container for "{profile}" ...')
        cluster["status"] = "Running"
    state["current_context"] = profile
    out.append(f"* Preparing Kubernetes {cluster['kubernetes_version']} on Docker 28.4.0 ...")
    out.append(
        f'* Done! kubectl is now configured to use "{profile}" cluster and "default" namespace by default'
    )
    return "\n".join(out) + "\n"


def cmd_addons(state: fs.State, profile: str, opts: Opts, pos: list[str]) -> str:
    if not pos:
        raise UsageError('unknown command "" for "minikube addons"')
    sub = pos[0]
    if sub == "list":
        if len(pos) != 1:
            raise Exit(EX_USAGE, stderr="X Exiting due to MK_USAGE: usage: minikube addons list\n")
        output = last(opts, "output", "list")
        cluster = require_cluster(state, profile, running=False)
        if output == "json":
            data = {
                name: {"Profile": profile, "Status": "enabled" if cluster["addons"].get(name) else "disabled"}
                for name in sorted(fs.KNOWN_ADDONS)
            }
            return json.dumps(data) + "\n"
        if output == "list":
            rows = [
                f"| {n:<22} | {profile:<10} | {'enabled' if cluster['addons'].get(n) else 'disabled':<9} |"
                for n in sorted(fs.KNOWN_ADDONS)
            ]
            return "\n".join(rows) + "\n"
        raise Exit(
            EX_USAGE,
            stderr=f"X Exiting due to MK_USAGE: invalid output format: {output}. "
            "Valid values: 'list', 'json'\n",
        )
    if sub == "enable":
        if "output" in opts:
            raise UsageError("unknown flag: --output")
        if len(pos) != 2:
            raise Exit(
                EX_USAGE, stderr="X Exiting due to MK_USAGE: usage: minikube addons enable ADDON_NAME\n"
            )
        name = pos[1]
        cluster = require_cluster(state, profile)
        if name not in fs.KNOWN_ADDONS:
            raise Exit(
                1,
                stderr="X Exiting due to MK_ADDON_ENABLE: "
                f"enable failed: run callbacks: {name} is not a valid addon\n",
            )
        cluster["addons"][name] = True
        if name in fs.ADDON_NAMESPACES:
            fs.ensure_namespace(cluster, fs.ADDON_NAMESPACES[name])
        return f"* The '{name}' addon is enabled\n"
    raise UsageError(f'unknown command "{sub}" for "minikube addons"')


def docker_host() -> str:
    return os.environ.get("FAKE_DOCKER_HOST", "unix:///var/run/docker.sock")


def cmd_docker_env(state: fs.State, profile: str, opts: Opts) -> str:
    shell = last(opts, "shell", "bash")
    cluster = require_cluster(state, profile)
    if cluster["driver"] not in ("docker", "podman", "kvm2", "virtualbox", "qemu2", "hyperkit", "vfkit"):
        raise Exit(
            EX_USAGE,
            stderr="X Exiting due to MK_USAGE: "
            'The docker-env command is incompatible with the "none" driver\n',
        )
    env = {"DOCKER_HOST": docker_host(), "MINIKUBE_ACTIVE_DOCKERD": profile}
    if shell == "none":
        return "".join(f"{k}={v}\n" for k, v in env.items())
    if shell in ("bash", "sh", "zsh"):
        lines = [f'export {k}="{v}"' for k, v in env.items()]
        lines += [
            "",
            "# To point your shell to minikube's docker-daemon, run:",
            f"# eval $(minikube -p {profile} docker-env)",
        ]
        return "\n".join(lines) + "\n"
    raise Exit(EX_USAGE, stderr=f"X Exiting due to MK_USAGE: unsupported shell: {shell}\n")


def shared_docker_images() -> list[str]:
    """Images on the (shared) docker daemon — only when FAKE_SHARE_DOCKER=1. See README."""
    if os.environ.get("FAKE_SHARE_DOCKER") != "1":
        return []
    try:
        res = subprocess.run(
            ["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
            env={**os.environ, "DOCKER_HOST": docker_host()},
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if res.returncode != 0:
        return []
    return [fs.normalize_image(line) for line in res.stdout.split() if line and "<none>" not in line]


def cluster_images(cluster: fs.State) -> list[str]:
    refs = fs.system_images(cluster["kubernetes_version"]) + list(cluster["images"]) + shared_docker_images()
    return sorted(dict.fromkeys(refs))


def cmd_image(state: fs.State, profile: str, opts: Opts, pos: list[str]) -> str:
    if not pos:
        raise UsageError('unknown command "" for "minikube image"')
    sub = pos[0]
    if sub == "load":
        if "format" in opts:
            raise UsageError("unknown flag: --format")
        if len(pos) < 2:
            raise Exit(
                EX_USAGE,
                stderr="X Exiting due to MK_USAGE: Please provide an image in your local daemon "
                "to load into minikube via <minikube image load IMAGE_NAME>\n",
            )
        cluster = require_cluster(state, profile)
        for ref in pos[1:]:
            norm = fs.normalize_image(ref)
            if norm not in cluster["images"]:
                cluster["images"].append(norm)
        return ""
    if sub in ("ls", "list"):
        fmt = last(opts, "format", "short")
        cluster = require_cluster(state, profile)
        refs = cluster_images(cluster)
        if fmt == "json":
            items = [
                {
                    "id": hashlib.sha256(r.encode()).hexdigest(),
                    "repoDigests": [],
                    "repoTags": [r],
                    "size": "10000000",
                }
                for r in refs
            ]
            return json.dumps(items) + "\n"
        if fmt == "short":
            return "".join(r + "\n" for r in refs)
        raise Exit(EX_USAGE, stderr=f"X Exiting due to MK_USAGE: unsupported format: {fmt}\n")
    raise UsageError(f'unknown command "{sub}" for "minikube image"')


def cmd_delete(state: fs.State, profile: str) -> str:
    if profile not in state["clusters"]:
        return (
            f'* "{profile}" profile does not exist, trying anyways.\n'
            f'* Removed all traces of the "{profile}" cluster.\n'
        )
    driver = state["clusters"][profile]["driver"]
    del state["clusters"][profile]
    if state.get("current_context") == profile:
        state["current_context"] = None
    return (
        f'* Deleting "{profile}" in {driver} ...\n'
        f"* Removing {Path.home()}/.minikube/machines/{profile} ...\n"
        f'* Removed all traces of the "{profile}" cluster.\n'
    )


def run(argv: list[str]) -> tuple[int, str, str, str]:
    """Returns (exit code, stdout, stderr, command label for the mutating classification)."""
    # Locate the command: only global flags may precede it.
    i, command = 0, None
    pre: list[str] = []
    while i < len(argv):
        a = argv[i]
        if a.startswith("-"):
            name = a.partition("=")[0] if a.startswith("--") else a[:2]
            if name not in GLOBAL:
                raise UsageError(
                    f"unknown flag: {name}"
                    if a.startswith("--")
                    else f"unknown shorthand flag: '{a[1:2]}' in {a}"
                )
            pre.append(a)
            if "=" not in a and not (name == "-p" and len(a) > 2):
                i += 1
                if i < len(argv):
                    pre.append(argv[i])
            i += 1
            continue
        command = a
        break
    if command is None:
        raise Exit(
            0,
            stdout="minikube provisions and manages local Kubernetes clusters "
            "optimized for development workflows.\n",
        )
    if command not in COMMANDS:
        raise UsageError(f'unknown command "{command}" for "minikube"')
    opts, pos = parse_flags(pre + argv[i + 1 :], {**GLOBAL, **COMMANDS[command]})
    profile = last(opts, "profile", fs.DEFAULT_PROFILE) or fs.DEFAULT_PROFILE
    label = f"{command} {pos[0]}" if command in ("addons", "image") and pos else command
    if command not in ("addons", "image") and pos:
        raise Exit(
            EX_USAGE,
            stderr=f'X Exiting due to MK_USAGE: "minikube {command}" accepts no arguments, got {pos}\n',
        )
    sd = fs.state_dir()
    with fs.transaction(sd) as state:
        if command == "status":
            code, out = cmd_status(state, profile, opts)
            return code, out, "", label
        if command == "start":
            return 0, cmd_start(state, profile, opts), "", label
        if command == "addons":
            return 0, cmd_addons(state, profile, opts, pos), "", label
        if command == "docker-env":
            return 0, cmd_docker_env(state, profile, opts), "", label
        if command == "image":
            return 0, cmd_image(state, profile, opts, pos), "", label
        if command == "delete":
            return 0, cmd_delete(state, profile), "", label
        if command == "ip":
            require_cluster(state, profile)
            return 0, fs.CLUSTER_IP + "\n", "", label
    raise AssertionError("unreachable")


def main() -> int:
    argv = sys.argv[1:]
    label = ""
    try:
        code, out, err, label = run(argv)
    except UsageError as exc:
        code, out, err = EX_USAGE, "", f"Error: {exc}\nRun 'minikube --help' for usage.\n"
    except Exit as exc:
        code, out, err = exc.code, exc.stdout, exc.stderr
    sys.stdout.write(out)
    sys.stderr.write(err)
    sys.stdout.flush()
    fs.log_call(fs.state_dir(), "minikube", argv, label in MUTATING and code == 0, code)
    return code


if __name__ == "__main__":
    sys.exit(main())
