"""What one environment's Compose stack is made of: its files, names, the steps' services,
and the image references Compose gets (`<NAME>_IMAGE`).

Every Compose operation (tasks/ops/compose.py, compose_volumes.py, compose_failures.py,
compose_jobs.py) works on a `Stack`; nothing here touches a daemon.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tasks.errors import StackError
from tasks.model import Config
from tasks.programs import compose as compose_cli
from tasks.store import images


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
