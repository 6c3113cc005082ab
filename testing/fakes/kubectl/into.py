"""Fake kubectl: `cp` (a local file into a pod's container) and `exec` (a command in it).

Pods are derived from their workloads (workloads.py), so what was copied and run is kept
beside them, per pod: cluster["pod_files"][<ns>/<pod>][<path>] = {"text", "mode"} and
cluster["pod_execs"][<ns>/<pod>] = [command argv...]. A pod that is not running refuses both,
like kubectl; a command listed in state["exec_failures"] exits 1.
"""

from __future__ import annotations

from pathlib import Path

from testing.fakes import k8sstate as fs
from testing.fakes.cli import Opts, UsageError, last
from testing.fakes.kubectl.common import KExit, Obj, Result, lines
from testing.fakes.kubectl.workloads import derive_pods


def _pod(state: fs.State, cluster: fs.State, ns: str, name: str, container: str | None) -> Obj:
    pod = next((p for p in derive_pods(state, cluster, ns) if p["metadata"]["name"] == name), None)
    if pod is None:
        raise KExit(1, lines(f'Error from server (NotFound): pods "{name}" not found'))
    names = [c.get("name") for c in pod["spec"].get("containers", [])]
    if container is not None and container not in names:
        raise KExit(1, lines(f"error: container {container} is not valid for pod {name}"))
    if pod["status"]["phase"] != "Running":
        raise KExit(
            1,
            lines(
                "error: cannot exec into a container in a completed pod; "
                f"current phase is {pod['status']['phase']}"
            ),
        )
    return pod


def cmd_cp(state: fs.State, cluster: fs.State, ns: str, opts: Opts, pos: list[str]) -> Result:
    if len(pos) != 2 or ":" not in pos[1]:
        raise UsageError("source and destination are required (fake: only <file> <pod>:<path>)")
    source = Path(pos[0])
    pod_name, _, target = pos[1].partition(":")
    _pod(state, cluster, ns, pod_name, last(opts, "container"))
    if not source.is_file():
        raise KExit(1, lines(f"error: {source} doesn't exist in local filesystem"))
    files = cluster.setdefault("pod_files", {}).setdefault(f"{ns}/{pod_name}", {})
    files[target] = {"text": source.read_text(), "mode": oct(source.stat().st_mode & 0o777)}
    return Result(0, "", mutating=True)


def cmd_exec(state: fs.State, cluster: fs.State, ns: str, opts: Opts, pos: list[str]) -> Result:
    if len(pos) < 2:
        raise UsageError("expected 'exec POD_NAME COMMAND [ARG1] [ARG2] ... [ARGN]'")
    pod_name, command = pos[0], pos[1:]
    _pod(state, cluster, ns, pod_name, last(opts, "container"))
    cluster.setdefault("pod_execs", {}).setdefault(f"{ns}/{pod_name}", []).append(command)
    if " ".join(command) in state.get("exec_failures", []):
        return Result(1, "", "command terminated with exit code 1\n", mutating=True)
    return Result(0, "", mutating=True)
