"""Docker Compose operations for one environment's stack: what it is made of, running
`docker-compose` through the tools door, live state, failure reports and the actions.

tasks/families/compose.py turns these into doit tasks.
"""

from __future__ import annotations

import re
import secrets as secrets_module
from dataclasses import dataclass
from pathlib import Path

import yaml

from tasks.errors import StackError, ToolError
from tasks.model import Config
from tasks.ops.live import Facts
from tasks.output import console
from tasks.programs import compose as compose_cli
from tasks.programs import docker, shell
from tasks.programs.compose import Container
from tasks.store import envfile, images

LOG_TAIL = 20


# --- What one environment's stack is made of ---------------------------------------


@dataclass(frozen=True)  # gremlin: pardon[equivalent] nothing assigns to a Stack or hashes one
class Stack:
    """The compose view of one environment: files, names and what each step starts."""

    cfg: Config

    @property
    def env(self) -> str:
        return self.cfg.env

    @property
    def folder(self) -> str:
        return f"compose/{self.env}"

    @property
    def files(self) -> list[str]:
        return [f"{self.folder}/docker-compose-db.yml", f"{self.folder}/docker-compose-services.yml"]

    @property
    def env_file(self) -> str:
        return f"{self.folder}/.env"

    @property
    def project(self) -> str:
        # Same name the renderer writes into both files (`name:`); docker labels use it.
        return f"{self.cfg.project}-{self.env}"

    def dbs(self) -> list[str]:
        return [db.name for db in self.cfg.placed("compose")]

    def services(self) -> list[str]:
        # Under runtime kubernetes the services run in the cluster; Compose only hosts databases.
        if self.cfg.runtime != "compose":
            return []
        return [svc.name for svc in self.cfg.deployments()]

    def jobs(self) -> list[str]:
        return [job.name for job in self.cfg.jobs()] if self.cfg.runtime == "compose" else []

    def built(self, names: list[str]) -> list[str]:
        """The subset of `names` whose image we build (the rest are pulled by Compose)."""
        ours = {*self.cfg.services, *(d.name for d in self.cfg.databases.values() if d.build)}
        return [n for n in names if n in ours]

    def all_built(self) -> list[str]:
        return self.built([*self.dbs(), *self.services(), *self.jobs()])

    def ref_files(self, names: list[str]) -> list[str]:
        return [str(images.ref_file(self.env, n)) for n in self.built(names)]

    def compose_project(self) -> compose_cli.Project:
        # Before the first `compose_up` there is no .env (it holds the secrets `up` creates):
        # down, ps and logs need only interpolation, which the committed example satisfies.
        env_file = self.env_file if Path(self.env_file).exists() else f"{self.folder}/.env.example"
        return compose_cli.Project(self.folder, tuple(self.files), env_file)


# --- Running compose -----------------------------------------------------------------


def image_env(stack: Stack, names: list[str], *, required: bool) -> dict[str, str]:
    """NAME_IMAGE=<content ref> for every built image; `required`: a missing .ref is an error."""
    wanted = stack.all_built()
    found = images.refs(stack.env, wanted)
    missing = [n for n in stack.built(names) if n not in found]
    if required and missing:
        raise StackError(
            f"no image built for {', '.join(missing)} in environment {stack.env}",
            fix=f"run `doit images env={stack.env}` (or `doit compose_up env={stack.env}`)",
        )
    # Pass every ref we know, not only the ones being started: Compose then sees one
    # consistent project and recreates exactly the containers whose image changed.
    return {images.image_var(name): ref for name, ref in found.items()}


# --- Liveness (the cheap half of "up to date") ---------------------------------------


class Live(Facts):
    """What is running for the project, asked once per doit run and forgotten after changes."""

    def __init__(self, project: str) -> None:
        super().__init__()
        self.project = project

    def states(self) -> dict[str, str] | None:
        """service -> "running"/"unhealthy"/...; None when the daemon cannot be asked."""
        return self.ask("states", self._states)

    def _states(self) -> dict[str, str] | None:
        found = docker.compose_states(self.project)
        return None if found is None else service_states(found)

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


def volume_ids(stack: Stack) -> str | None:
    """Identity of the data volumes (name + creation time): it changes when they are wiped."""
    names = data_volumes(stack)
    if not names:
        return ""
    return docker.volume_ids(names)


def data_volumes(stack: Stack) -> list[str]:
    try:
        doc = yaml.safe_load(Path(stack.files[0]).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    return sorted(f"{stack.project}_{name}" for name in (doc.get("volumes") or {}))


# --- Failures: name the service, show its last log lines ------------------------------


def explain(stack: Stack, names: list[str], error: ToolError) -> StackError:
    """Turn a failed `up`/`run` into: which service, why (tools' fix), its last log lines."""
    try:
        containers = compose_cli.ps(stack.compose_project(), *names, env=image_env(stack, [], required=False))
    except ToolError:
        return error  # the daemon itself is the problem; tools already said so
    bad = failing(containers, names)
    if not bad:
        return error
    parts = [
        (f"{', '.join(bad)} failed to start or become healthy (environment {stack.env}): {reason(error)}")
    ]
    refused: list[str] = []
    for name in bad:
        logs = compose_cli.logs(
            stack.compose_project(),
            name,
            env=image_env(stack, [], required=False),
            tail=LOG_TAIL,
            check=False,
        )
        text = logs.strip() or "(no output)"
        if AUTH_REFUSED.search(text):
            refused.append(name)
        parts.append(f"--- last {LOG_TAIL} log lines of {name} ---\n{text}")
    if refused and data_volumes(stack):
        # One sentence first: the cause is the secrets, not the services.
        return StackError(
            volume_mismatch(
                stack, f"{', '.join(refused)} cannot log in with the passwords in {stack.env_file}"
            )
            + ".\n"
            + "\n".join(parts),
            fix=volume_fix(stack),
        )
    fix = error.fix or (
        f"read the logs above; `doit compose_logs env={stack.env}` shows all of them, "
        f"`doit compose_ps env={stack.env}` the state"
    )
    return StackError("\n".join(parts), fix=fix)


def reason(error: ToolError) -> str:
    """Compose's own last words, without its progress lines ("Container x Started")."""
    lines = [line.strip() for line in (error.stderr + error.stdout).splitlines() if line.strip()]
    words = [line for line in lines if not PROGRESS.match(line)]
    return (words or lines or [f"exit {error.code}"])[-1]


# Authentication refusals as the common servers and clients word them (AMQP, SQL, Redis, Mongo).
AUTH_REFUSED = re.compile(
    r"ACCESS_REFUSED|authentication failed|ProbableAuthenticationError|WRONGPASS|"
    r"invalid username-password|login (was )?refused",
    re.IGNORECASE,
)
PROGRESS = re.compile(
    r"^(Container|Network|Volume|Image)\s+\S+\s+(Creat|Start|Stop|Remov|Wait|Health|Recreat|Running|Pull)"
)


def failing(rows: list[Container], names: list[str]) -> list[str]:
    """The services among `names` to blame: broken ones, else (a timeout) the not-yet-healthy.

    `--wait` gives up as soon as one container fails; the others may still be starting,
    and blaming them too would hide the culprit.
    """
    state: dict[str, str] = {}
    for row in rows:
        if row.state != "running" or row.health == "unhealthy":
            verdict = "broken"
        elif row.health == "starting":
            verdict = "starting"
        else:
            verdict = "ok"
        if state.get(row.service, "ok") == "ok" or verdict == "broken":
            state[row.service] = verdict
    broken = [n for n in names if state.get(n, "broken") == "broken"]
    return broken or [n for n in names if state.get(n) == "starting"]


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
        raise StackError(volume_mismatch(stack, f"{stack.env_file} is missing"), fix=volume_fix(stack))


def volume_mismatch(stack: Stack, what: str) -> str:
    return (
        f"{what}, but the data volumes of Compose project {stack.project} exist and keep "
        f"the passwords they were created with"
    )


def volume_fix(stack: Stack) -> str:
    return (
        f"restore the {stack.env_file} that created them (e.g. copy it from the other checkout), "
        f"or run `doit compose_down env={stack.env} wipe=1` to delete the data and start fresh"
    )


def check_env_file(stack: Stack) -> None:
    """Before anything starts: the .env is private and, outside `local`, holds no placeholder."""
    envfile.read_secrets(Path(stack.env_file), stack.env, stack.cfg.secrets)


def new_secret() -> str:
    return secrets_module.token_urlsafe(24)


def env_names(path: Path) -> set[str]:
    return envfile.names(path)


def env_values(path: Path, names: tuple[str, ...]) -> list[str]:
    return [value for key, value in envfile.read(path).items() if key in names and value]


MASK = "********"


def redact(text: str, values: list[str]) -> str:
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def up(stack: Stack, live: Live, names: list[str], what: str) -> None:
    live.forget()  # whatever happens next, the cached `docker ps` is stale
    if not names:
        console.step(f"no {what} run in Compose for environment {stack.env}")
        return
    check_env_file(stack)
    timeout = stack.cfg.timeouts["healthy"]
    try:
        compose_cli.up(
            stack.compose_project(),
            names,
            wait=timeout,
            env=image_env(stack, names, required=True),
            prefix=f"compose-{what}",
            timeout=timeout + 120,
        )
    except ToolError as exc:
        raise explain(stack, names, exc) from None
    console.step(f"{what} healthy: {', '.join(names)}")


def run_job(stack: Stack, live: Live, job: str) -> None:
    live.forget()
    check_env_file(stack)
    # The job's compose profile is named after it; `run` activates it for this one service.
    timeout = stack.cfg.timeouts["healthy"]
    try:
        compose_cli.run_once(
            stack.compose_project(),
            job,
            env=image_env(stack, [job], required=True),
            prefix=job,
            timeout=timeout + 120,
        )
    except ToolError as exc:
        tail = "\n".join((exc.stdout + exc.stderr).strip().splitlines()[-LOG_TAIL:])
        if AUTH_REFUSED.search(exc.stdout + exc.stderr) and data_volumes(stack):
            raise StackError(
                volume_mismatch(stack, f"{job} cannot log in with the passwords in {stack.env_file}")
                + f".\nlast lines of {job}:\n{tail}",
                fix=volume_fix(stack),
            ) from None
        raise StackError(
            f"{job} failed in environment {stack.env} (exit {exc.code}); last lines:\n{tail}",
            fix=exc.fix or f"fix the cause, then `doit compose_jobs env={stack.env}` runs it again",
        ) from None
    console.step(f"{job} done")


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


def show_logs(stack: Stack) -> None:
    """Every container's log lines, with timestamps."""
    env = image_env(stack, [], required=False)
    console.show(compose_cli.logs(stack.compose_project(), env=env, timestamps=True), end="")


def show_config(stack: Stack) -> None:
    # Our reader first: a line Compose cannot read is reported without its value (Compose's own
    # error would quote it). Compose never sees a secret: a variable of its environment wins over
    # the .env, so each one is the mask; the values are also masked in what it prints.
    check_env_file(stack)
    masked = {name: MASK for name in stack.cfg.secrets}
    text = compose_cli.config(stack.compose_project(), env={**image_env(stack, [], required=False), **masked})
    console.show(redact(text, env_values(Path(stack.env_file), stack.cfg.secrets)), end="")
