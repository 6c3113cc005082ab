"""doit tasks: the status page and its one task of its own.

    doit ui env=offline [port=10360] [host=127.0.0.1 token=...]   serve the page until Ctrl-C
    doit restart env=offline service=engine                        restart one service's containers

The page itself is tasks/ui/ (docs/ui.md); this family only builds the task dicts. `restart`
is the page's "restart" button as a task, so the button takes the run lock like any doit run.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from tasks.errors import StackError, missing_package
from tasks.families.shared.creators import failing_family, user_errors
from tasks.families.shared.options import Option
from tasks.families.shared.registry import creator, selected
from tasks.families.shared.run import Run
from tasks.model import Config
from tasks.ops.compose import restart
from tasks.ops.compose_stack import Stack
from tasks.ui import HOST
from tasks.ui import PORT as PAGE_PORT

TaskDict = dict[str, Any]
PUBLIC = ("ui", "restart")
PORT = Option("port", int, PAGE_PORT, "the status page's port")
HOST_OPTION = Option("host", str, HOST, "the address to listen on; anything but loopback needs token=")
TOKEN = Option("token", str, "", "the page's token (required with a host other than loopback)")
SERVICE = Option("service", str, "", "the Compose service or database to restart")


def serve(env: str, port: int, host: str, token: str) -> None:
    try:
        from tasks.ui import server  # the ASGI stack: loaded when a page is served, not by `doit list`
    except ImportError as exc:
        raise missing_package(exc) from None
    server.serve(env, host=host, port=port, token=token)


def restart_one(cfg: Config, service: str) -> None:
    if cfg.runtime != "compose":
        raise StackError(
            f"`doit restart` restarts Compose services; environment {cfg.env} runs on {cfg.runtime}",
            fix="on Kubernetes, `doit minikube_up` rolls out what changed",
        )
    if not service:
        raise StackError("which service? `doit restart` needs service=<name>", fix="add service=<name>")
    restart(Stack(cfg), service)


@creator(*selected(*PUBLIC, options={"ui": (PORT, HOST_OPTION, TOKEN), "restart": (SERVICE,)}))
def task_ui(run: Run) -> Iterator[TaskDict]:
    """The status page (`doit ui`) and the restart its buttons run (env=<name>)."""
    env = run.env_for("ui")
    cfg = run.try_config(env)
    if isinstance(cfg, StackError):
        yield from failing_family(list(PUBLIC), cfg)
        return
    yield run.with_params(
        {
            "basename": "ui",
            "doc": "Serve the live status page of env=<name> on http://127.0.0.1:10360 (port=<n>).",
            "actions": [(user_errors(partial(serve, env)),)],
            "uptodate": [False],
            "verbosity": 2,
        }
    )
    yield run.with_params(
        {
            "basename": "restart",
            "doc": "Restart one Compose service's containers in place (service=<name>); the page's button.",
            "actions": [(user_errors(partial(restart_one, cfg)),)],
            "uptodate": [False],
        }
    )
