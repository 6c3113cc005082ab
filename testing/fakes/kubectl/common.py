"""Fake kubectl: the command table, exits and results every command module shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from testing.fakes import k8sstate as fs
from testing.fakes.cli import Spec

Obj = dict[str, Any]
CLIENT_VERSION = "v1.37.1"

GLOBAL: Spec = {"--context": ("context", True), "-n": ("namespace", True), "--namespace": ("namespace", True)}
SELECTOR: Spec = {"-l": ("selector", True), "--selector": ("selector", True)}
COMMANDS: dict[str, Spec] = {
    "get": {
        "-o": ("output", True),
        "--output": ("output", True),
        "--field-selector": ("field", True),
        **SELECTOR,
    },
    "apply": {"-f": ("filename", True), "--filename": ("filename", True)},
    "rollout": {"--timeout": ("timeout", True)},
    "logs": {"--tail": ("tail", True), "--prefix": ("prefix", False), **SELECTOR},
    "delete": {"--ignore-not-found": ("ignore", False)},
    "wait": {"--for": ("for", True), "--timeout": ("timeout", True)},
    "port-forward": {},
    "cp": {"-c": ("container", True), "--container": ("container", True)},
    "exec": {"-c": ("container", True), "--container": ("container", True)},
    "version": {"--client": ("client", False)},
    "kustomize": {},  # delegated verbatim; the real kubectl validates its flags
}
CONNECTION_REFUSED = (
    f"The connection to the server {fs.API_SERVER} was refused - did you specify the right host or port?"
)


class KExit(Exception):
    """Terminates the command with an exit code; nothing in the state is saved."""

    def __init__(self, code: int, stderr: str = "", stdout: str = "") -> None:
        super().__init__(code)
        self.code, self.stderr, self.stdout = code, stderr, stdout


@dataclass
class Result:
    code: int = 0
    out: str = ""
    err: str = ""
    mutating: bool = False


def lines(*items: str) -> str:
    return "".join(i + "\n" for i in items)


def not_found(info: fs.KindInfo, name: str) -> KExit:
    return KExit(1, lines(f'Error from server (NotFound): {info.resource} "{name}" not found'))
