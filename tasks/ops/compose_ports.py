"""Before any container of a Compose stack starts: is every host port it publishes free?

`up --wait` finds a taken port only when it reaches the container that publishes it, after
the databases started: half a stack. So the first up step checks every port the whole
stack publishes (databases and services) and names what holds each busy one. A port held by
this stack's own containers is not in the way (`up` keeps or recreates them).
"""

from __future__ import annotations

import socket

from tasks.errors import StackError
from tasks.ops.compose_stack import Stack
from tasks.programs import docker


def published(stack: Stack) -> dict[int, str]:
    """host port -> the service (or database) of this stack that publishes it."""
    cfg = stack.cfg
    out = {db.publish: db.name for db in cfg.placed("compose") if db.publish}
    if cfg.runtime == "compose":
        out.update({p.publish: svc.name for svc in cfg.deployments() for p in svc.ports if p.publish})
    return dict(sorted(out.items()))


def free(port: int) -> bool:
    """Can a listener bind the port on every interface (as Docker's port publishing does)?"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def check_free(stack: Stack) -> None:
    """Raise, naming each busy port, its service and what holds it, unless every port this
    stack publishes is free or held by the stack itself."""
    wanted = published(stack)
    busy = [port for port in wanted if not free(port)]
    if not busy:
        return
    holders = docker.port_holders() or {}
    taken = [port for port in busy if port not in holders or holders[port].project != stack.project]
    if not taken:
        return
    lines = []
    for port in taken:
        holder = holders.get(port)
        if holder is None:
            by = "a process outside Docker (`ss -ltnp` names it)"
        elif holder.project:
            by = f"container {holder.container} of Compose project {holder.project}"
        else:
            by = f"container {holder.container}"
        lines.append(f"  host port {port} ({wanted[port]}) is held by {by}")
    raise StackError(
        f"{len(taken)} host port(s) the stack of environment {stack.env} publishes are in use; "
        "nothing was started:\n" + "\n".join(lines),
        fix=f"stop what holds them (`doit compose_down env=<other>` for another environment of this "
        f"stack), or change `publish:` in environments/{stack.env}.yaml",
    )
