"""doit task: `doit dev env=<env>`, the inner loop (tasks/ops/devloop.py).

    doit dev                     the default environment (Compose), until Ctrl-C
    doit dev env=minikube        the same loop against Minikube
    doit dev port=10361          the status page on another port (default 10360)
    doit dev port=0              no status page: the loop alone

It first brings the stack up as `doit compose_up` (or `minikube_up`) would, holding the run
lock as every run does; then the loop gives the lock back and takes it only for each cycle.
A cloud environment is refused with one sentence: its deploys go through `doit deploy`.
While it runs, the loop serves the status page (tasks/ui/, `doit ui`) and prints its address once.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from tasks.errors import StackError, missing_package
from tasks.families.shared.creators import failing, user_errors
from tasks.families.shared.options import Option
from tasks.families.shared.registry import Scope, Task, creator
from tasks.families.shared.run import Run
from tasks.ops import devloop
from tasks.output import console
from tasks.ui import PORT as PAGE_PORT

# Port 0 is "no page" (not "any free port": the page's address is printed once and must be
# the one a person opens); the benchmark times a cycle with and without the page this way.
NO_PAGE = 0
# Ctrl-C ends the loop within 2 s: the page gets this long to close (its threads are daemons).
PAGE_STOP_WAIT = 1.0
PORT = Option("port", int, PAGE_PORT, f"the status page's port ({NO_PAGE}: no page)")

DOC = "Watch the code and rebuild or live-sync only the changed services until Ctrl-C (env=<name>)."


def loop_with_page(env: str, root: Path, port: int) -> None:
    """The loop, with the status page served beside it. A page that cannot be served (its port
    taken, say by a `doit ui` already running) is a note: the loop is what was asked for.
    Port NO_PAGE: the loop alone, no page and no note."""
    if port == NO_PAGE:
        devloop.run(env, root)
        return
    try:
        from tasks.ui import server  # the ASGI stack: loaded when a page is served, not by `doit list`

        page = server.start(env, port=port, root=root)
    except ImportError as exc:
        console.note(f"status page not served: {missing_package(exc).render()}")
        devloop.run(env, root)
        return
    except StackError as exc:
        console.note(f"status page not served: {exc.message}" + (f" ({exc.fix})" if exc.fix else ""))
        devloop.run(env, root)
        return
    console.say(f"[dev] status page: {page.url}")
    try:
        devloop.run(env, root)
    finally:
        page.stop(wait=PAGE_STOP_WAIT)


@creator(Task("dev", Scope.SELECTED, options=(PORT,)), needs=("compose", "minikube"))
def task_dev(run: Run) -> Iterator[dict[str, Any]]:
    """The inner loop: the stack up first, then one cycle per batch of changed files."""
    env = run.env_for("dev")
    cfg = run.try_config(env)
    if isinstance(cfg, StackError):
        yield failing(cfg, basename="dev", doc=DOC)
        return
    try:
        devloop.refuse_cloud(cfg)
    except StackError as exc:
        yield failing(exc, basename="dev", doc=DOC)
        return
    yield {
        "basename": "_dev_loop",
        "doc": "Check the watcher is installed and take the checkout's one inner loop, before anything runs.",
        "actions": [user_errors(partial(devloop.prepare, env))],
        "uptodate": [False],
    }
    up = "compose_up" if cfg.runtime == "compose" else "minikube_up"
    yield run.with_params(
        {
            "basename": "dev",
            "doc": DOC,
            "actions": [user_errors(partial(loop_with_page, env, run.root))],
            # In this order: the loop's lock first, then the stack up as `doit compose_up` makes it.
            "task_dep": ["_dev_loop", up],
            "uptodate": [False],
            # The cycles' lines are for the terminal as they happen, never captured.
            "verbosity": 2,
        }
    )
