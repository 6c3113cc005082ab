"""Docker Compose operations for one environment's stack: live state, the .env of secrets,
and the actions (up, hooks, down, logs, config) through the docker-compose adapter.

What a stack is made of is tasks/ops/compose_stack.py; its data volumes compose_volumes.py;
why a step failed compose_failures.py; the one-shot jobs compose_jobs.py.
tasks/families/compose.py turns these into doit tasks.
"""

from __future__ import annotations

import secrets as secrets_module
from pathlib import Path

from tasks.errors import StackError, ToolError
from tasks.ops import compose_ports, logfilter
from tasks.ops import compose_volumes as volumes
from tasks.ops.compose_failures import explain
from tasks.ops.compose_stack import Stack, image_env
from tasks.ops.live import Facts
from tasks.output import console
from tasks.programs import compose as compose_cli
from tasks.programs import docker, shell
from tasks.store import envfile

# --- Liveness (the cheap half of "up to date") ---------------------------------------


class Live(Facts):
    """What is running for the project, asked once per doit run and forgotten after changes."""

    def __init__(self, project: str) -> None:
        super().__init__()
        self.project = project

    def states(self) -> dict[str, str] | None:
        """service -> "running"/"unhealthy"/...; None when the daemon cannot be asked."""
        found = self._containers()
        return None if found is None else service_states(found)

    def _containers(self) -> list[docker.ServiceState] | None:
        return self.ask("containers", lambda: docker.compose_states(self.project))

    def identity(self) -> tuple[str, ...] | None:
        """Every container's ID, image, service and state (health folded in), from the same
        one `docker ps` as `states`: the status page compares it between looks, to read the
        full status only when it changed (the uptime `ps` prints is left out)."""
        found = self._containers()
        if found is None:
            return None
        return tuple(sorted(f"{c.container} {c.image} {c.service} {c.state}" for c in found))

    def running(self, names: list[str]) -> bool:
        states = self.states()
        return states is not None and all(states.get(n) == "running" for n in names)


def service_states(containers: list[docker.ServiceState]) -> dict[str, str]:
    """service -> state; an unhealthy or still starting container does not count as running:
    "up to date" means checked healthy. With several containers per service (replicas,
    one-off runs), any bad one wins."""
    out: dict[str, str] = {}
    for c in containers:
        if out.get(c.service, "running") == "running":
            out[c.service] = c.state
    return out


# --- Actions -------------------------------------------------------------------------


def ensure_env_file(stack: Stack) -> None:
    """Create compose/<env>/.env (mode 600) with random secrets; only add missing names.

    The Compose project's data volumes keep the credentials they were created with
    (docs/decisions.md, "Secrets agree with their volumes"): a new .env next to existing
    volumes would hold passwords they refuse, so it is not created."""
    path = Path(stack.env_file)
    wanted = list(stack.cfg.secrets)
    if not envfile.check_file(path):
        check_no_old_volumes(stack)
        header = f"# Created by `doit compose_up env={stack.env}`: random secrets. Git-ignored.\n"
        envfile.create(path, header, {name: new_secret() for name in wanted})
        console.step(f"created {path} (mode 600) with random values for: {', '.join(wanted) or '(none)'}")
        return
    # Refuses a link, a readable file or a line Compose cannot read before adding to it.
    envfile.read_secrets(path, stack.env, wanted)
    missing = [n for n in wanted if n not in env_names(path)]
    if missing:
        envfile.append(path, {name: new_secret() for name in missing})
        console.step(f"added random values for {', '.join(missing)} to {path} (existing values kept)")


def check_no_old_volumes(stack: Stack) -> None:
    # Databases keep the credentials they were first started with, in their volumes.
    if docker.volumes(f"com.docker.compose.project={stack.project}"):
        raise StackError(
            volumes.mismatch(stack, f"{stack.env_file} is missing"), fix=volumes.mismatch_fix(stack)
        )


def check_env_file(stack: Stack) -> None:
    """Before anything starts: the .env is private and, outside `local`, holds no placeholder.
    Its secret values are masked from now on in every printed line and step log (a job or a
    service may print its password, and the step log keeps what it printed)."""
    values = envfile.read_secrets(Path(stack.env_file), stack.env, stack.cfg.secrets)
    console.hide(value for name, value in values.items() if name in stack.cfg.secrets)


def new_secret() -> str:
    return secrets_module.token_urlsafe(24)


def env_names(path: Path) -> set[str]:
    return envfile.names(path)


def env_values(path: Path, names: tuple[str, ...]) -> list[str]:
    return [value for key, value in envfile.read(path).items() if key in names and value]


MASK = console.MASK
redact = console.redact  # whole values only (docs/decisions.md, "Masking whole values")


def up(stack: Stack, live: Live, names: list[str], what: str, *, stop_grace: int | None = None) -> None:
    """Start these containers and wait until healthy; `stop_grace`: seconds a replaced
    container gets to stop (the inner loop's 1: a process that ignores SIGTERM, as a PID 1
    without a handler does, must not cost Docker's 10 s a cycle)."""
    live.forget()  # whatever happens next, the cached `docker ps` is stale
    if not names:
        console.step(f"no {what} run in Compose for environment {stack.env}")
        return
    check_env_file(stack)
    env = image_env(stack, names, required=True)
    compose_ports.check_free(stack)  # every port of the whole stack, before anything starts
    made = volumes.ensure(stack)  # before Compose would make them, without our id
    if made:
        console.step(f"created data volume(s) {', '.join(made)}")
    timeout = stack.cfg.timeouts["healthy"]
    try:
        compose_cli.up(
            stack.compose_project(),
            names,
            wait=timeout,
            env=env,
            prefix=f"compose-{what}",
            timeout=timeout + 120,
            stop_grace=stop_grace,
        )
    except ToolError as exc:
        raise explain(stack, names, exc) from None
    console.step(f"{what} healthy: {', '.join(names)}")


def run_hooks(stack: Stack, stage: str) -> None:
    for i, command in enumerate(stack.cfg.hooks[stage]):
        console.step(f"{stage}: {command}")
        try:
            shell.run(command, prefix=stage)
        except ToolError as exc:  # the user's own command: name it and where it is configured
            raise StackError(
                f"hooks.{stage}[{i}] of environment {stack.env} failed (exit {exc.code}): {command}",
                fix=f"fix or remove it (hooks.{stage} in environments/{stack.env}.yaml or "
                "environments/stack.yaml); its output is in .build/logs/",
            ) from None


def down(stack: Stack, live: Live, wipe: bool = False) -> None:
    live.forget()
    compose_cli.down(
        stack.compose_project(), volumes=wipe, env=image_env(stack, [], required=False), prefix="compose-down"
    )
    console.step(f"{stack.project} stopped" + ("; data volumes deleted" if wipe else "; data volumes kept"))


def show_logs(stack: Stack, service: str = "", level: str = "", id: str = "") -> None:
    """Every container's log lines, with timestamps; or one service's (Compose is asked for it
    alone), of `level` and above, naming correlation id `id` (tasks/ops/logfilter.py)."""
    wanted = logfilter.LogFilter(logfilter.level_option(level), id)
    names = [*stack.dbs(), *stack.services(), *stack.jobs()]
    one = logfilter.service_option(service, names, f"environment {stack.env}")
    env = image_env(stack, [], required=False)
    text = compose_cli.logs(stack.compose_project(), *([one] if one else []), env=env, timestamps=True)
    shown = logfilter.apply(text, wanted)
    console.show(shown, end="")
    if wanted.active() and not shown:
        console.note("no log line matched")


def log_text(stack: Stack, *, tail: int) -> str:
    """The last `tail` lines of every container, with timestamps, unmasked (the status page masks
    them as they arrive); whatever Compose printed, even when it failed."""
    env = image_env(stack, [], required=False)
    return compose_cli.logs(stack.compose_project(), env=env, timestamps=True, tail=tail, check=False)


def secret_values(stack: Stack) -> list[str]:
    """The values of the stack's secrets in its .env ([] before the first `compose_up`), to mask."""
    path = Path(stack.env_file)
    return env_values(path, stack.cfg.secrets) if path.is_file() else []


def restart(stack: Stack, name: str) -> None:
    """Restart one service's containers in place (same image, same configuration)."""
    if name not in [*stack.dbs(), *stack.services()]:
        raise StackError(
            f"{name!r} is not a service or database of environment {stack.env}",
            fix=f"use one of: {', '.join([*stack.dbs(), *stack.services()]) or '(none)'}",
        )
    states = Live(stack.project).states()
    if states is not None and name not in states:
        # Compose restarts what exists and says nothing of the rest: "restarted" would be a lie.
        raise StackError(
            f"{name} has no container in environment {stack.env}: there is nothing to restart",
            fix=f"start the stack with `doit compose_up env={stack.env}`",
        )
    env = image_env(stack, [], required=False)
    console.hide(secret_values(stack))  # into the step log goes what Compose prints
    compose_cli.restart(stack.compose_project(), [name], env=env, prefix=f"restart-{name}")
    console.step(f"restarted {name}")


def show_config(stack: Stack) -> None:
    # Our reader first: a line Compose cannot read is reported without its value (Compose's own
    # error would quote it). Compose never sees a secret: a variable of its environment wins over
    # the .env, so each one is the mask; the values are also masked in what it prints.
    check_env_file(stack)
    masked = {name: MASK for name in stack.cfg.secrets}
    text = compose_cli.config(stack.compose_project(), env={**image_env(stack, [], required=False), **masked})
    console.show(redact(text, env_values(Path(stack.env_file), stack.cfg.secrets)), end="")
