"""Stateful fake `kubectl` (see README.md). Supports only the calls stackbuild makes.

`kubectl kustomize` and `kubectl version --client` are delegated to the real kubectl found
later on PATH, because rendering kustomizations is pure and the real tool is available.
Everything else talks to the fake "cluster" in $FAKE_K8S_STATE.
"""

from __future__ import annotations

import sys

from testing.fakes import k8sstate as fs
from testing.fakes.cli import Opts, UsageError, last, parse_flags
from testing.fakes.kubectl.apply import cmd_apply
from testing.fakes.kubectl.commands import cmd_delete, cmd_logs, cmd_port_forward, cmd_rollout, cmd_wait
from testing.fakes.kubectl.common import (
    CLIENT_VERSION,
    COMMANDS,
    CONNECTION_REFUSED,
    GLOBAL,
    KExit,
    Result,
    lines,
)
from testing.fakes.kubectl.delegate import delegate, find_real_kubectl
from testing.fakes.kubectl.get import cmd_get
from testing.fakes.kubectl.into import cmd_cp, cmd_exec

HANDLERS = {
    "get": cmd_get,
    "rollout": cmd_rollout,
    "logs": cmd_logs,
    "delete": cmd_delete,
    "wait": cmd_wait,
    "port-forward": cmd_port_forward,
    "cp": cmd_cp,
    "exec": cmd_exec,
}


def connect(state: fs.State, opts: Opts) -> fs.State:
    """Resolve the kube context like kubectl does, failing like it when the API server is down."""
    ctx = last(opts, "context")
    if ctx is not None and ctx not in state["clusters"]:
        raise KExit(1, lines(f'error: context "{ctx}" does not exist'))
    ctx = ctx or state.get("current_context")
    cluster: fs.State | None = state["clusters"].get(ctx) if ctx else None
    if cluster is None:
        raise KExit(
            1,
            lines(
                "The connection to the server localhost:8080 was refused - "
                "did you specify the right host or port?"
            ),
        )
    if cluster["status"] != "Running":
        raise KExit(1, lines(CONNECTION_REFUSED))
    return cluster


def split_command(argv: list[str]) -> tuple[str | None, list[str]]:
    """Find the subcommand; only global flags may precede it (as with kubectl)."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("-") and a != "-":
            name = a.partition("=")[0] if a.startswith("--") else a[:2]
            if name not in GLOBAL:
                raise UsageError(
                    f"unknown flag: {name}"
                    if a.startswith("--")
                    else f"unknown shorthand flag: '{a[1]}' in {a}"
                )
            i += 1 if ("=" in a or (not a.startswith("--") and len(a) > 2)) else 2
            continue
        return a, argv[:i] + argv[i + 1 :]
    return None, argv


def run(argv: list[str]) -> Result:
    command, rest = split_command(argv)
    if command is None:
        return Result(0, "kubectl controls the Kubernetes cluster manager.\n")
    if command not in COMMANDS:
        raise KExit(1, lines(f'error: unknown command "{command}" for "kubectl"'))
    try:
        opts, pos = parse_flags(rest, {**GLOBAL, **COMMANDS[command]})
    except UsageError as exc:
        raise KExit(1, lines(f"error: {exc}", f"See 'kubectl {command} --help' for usage.")) from None
    ns_flag = last(opts, "namespace")
    ns = ns_flag or "default"
    sd = fs.state_dir()
    if command == "version":
        if pos:
            raise KExit(1, lines(f'error: unknown command {pos[0]!r} for "kubectl version"'))
        client = f"Client Version: {CLIENT_VERSION}\nKustomize Version: v5.8.1\n"
        if last(opts, "client") == "true":
            return Result(0, client)
        with fs.transaction(sd) as state:
            cluster = connect(state, opts)
            return Result(0, client + f"Server Version: {cluster['kubernetes_version']}\n")
    try:
        with fs.transaction(sd) as state:
            cluster = connect(state, opts)
            if command == "apply":
                return cmd_apply(state, cluster, ns_flag, opts, pos)
            return HANDLERS[command](state, cluster, ns, opts, pos)
    except UsageError as exc:
        raise KExit(1, lines(f"error: {exc}", f"See 'kubectl {command} --help' for usage.")) from None


def main() -> int:
    argv = sys.argv[1:]
    sd = fs.state_dir()
    try:
        command, _ = split_command(argv)
    except UsageError:
        command = None
    if command == "kustomize" or (command == "version" and "--client" in argv and find_real_kubectl()):
        code = delegate(argv)
        fs.log_call(sd, "kubectl", argv, False, code)
        return code
    try:
        res = run(argv)
    except UsageError as exc:
        res = Result(1, "", lines(f"error: {exc}", "See 'kubectl --help' for usage."))
    except KExit as exc:
        res = Result(exc.code, exc.stdout, exc.stderr)
    sys.stdout.write(res.out)
    sys.stdout.flush()
    sys.stderr.write(res.err)
    fs.log_call(sd, "kubectl", argv, res.mutating, res.code)
    return res.code
