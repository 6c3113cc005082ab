"""The guard that stops an unmarked test from starting a real docker, docker-compose, kubectl or minikube.

It wraps the one door to programs (tasks/programs/tools.py `run` and `run_foreground`): before a
guarded program starts, the path it resolves to must be a fake (testing.harness.MARKER),
unless the command only renders or reports the client's version (`kubectl kustomize`,
`kubectl version --client`, `docker-compose config`), which reaches no daemon or cluster.
Tests marked `docker` may start docker and docker-compose; tests marked `minikube` may start
all four. A blocked call raises RealProgramBlocked (a BaseException, so no `except Exception`
in the product or in doit swallows it) and is remembered, so the test fails even if
something catches it anyway.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from testing import harness

GUARDED = ("docker", "docker-compose", "kubectl", "minikube")
ALLOWED_BY_MARK = {
    "docker": {"docker", "docker-compose"},
    "minikube": {"docker", "docker-compose", "kubectl", "minikube"},
}


class RealProgramBlocked(BaseException):
    """An unmarked test tried to start a real daemon- or cluster-facing program."""


def offline(program: str, args: tuple[str, ...]) -> bool:
    """Commands of a guarded program that reach no daemon or cluster."""
    if program == "kubectl":
        return args[:1] == ("kustomize",) or ("version" in args and "--client" in args)
    if program == "docker-compose":
        return "config" in args or args[:1] == ("version",)
    return False


class Guard:
    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.allowed = set(allowed)
        self.blocked: list[str] = []

    def real(self, program: str) -> bool:
        from tasks.programs import tools

        path = tools.which(program)
        return path is not None and not harness.is_fake(path)

    def check(self, program: str, args: tuple[str, ...]) -> None:
        name = program.rsplit("/", 1)[-1]
        wanted = [name] if name in GUARDED else []
        if name == "sh" and args[:1] == ("-c",) and len(args) > 1:
            # e.g. `tar ... | docker import -`: the program inside the pipeline counts.
            wanted = [g for g in GUARDED if re.search(rf"(^|[\s|;&(]){re.escape(g)}(\s|$)", args[1])]
            args = ()
        for guarded in wanted:
            if guarded in self.allowed or offline(guarded, args) or not self.real(guarded):
                continue
            message = (
                f"test started the real `{guarded}` ({' '.join((program, *args))[:120]}): put a fake "
                f"first on PATH (testing.harness) or mark the test "
                f"{' or '.join(m for m, names in ALLOWED_BY_MARK.items() if guarded in names)}"
            )
            self.blocked.append(message)
            raise RealProgramBlocked(message)

    def wrap(self, door: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(program: str, *args: str, **kwargs: Any) -> Any:
            self.check(program, args)
            return door(program, *args, **kwargs)

        guarded.__doc__ = door.__doc__
        return guarded
