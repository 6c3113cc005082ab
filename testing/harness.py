"""The one way a test puts a fake program on PATH, and the one call log every fake writes.

Every fake (docker, docker-compose, kubectl, minikube, and the few-line shell fakes a test
writes for one failure) is installed by `install` as a small sh wrapper carrying MARKER:
- the fake runs with *this* interpreter (PyYAML available) whatever `python3` is on PATH;
- the fake kubectl's delegation and the real-program guard (testing/guard.py) tell a fake
  from a real program by that marker alone;
- every call is appended to one JSON-lines log (`log_call`): {"tool", "argv", "mutating",
  "exit", ...}, so a test can check that a second run called nothing that changes state.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # fakes import this module in every call: no pytest import at run time
    import pytest

MARKER = "STACKBUILD_FAKE_PROGRAM"
ROOT = Path(__file__).resolve().parent.parent  # the checkout: fakes run as `python -m testing.fakes.X`
CALLS_ENV = "FAKE_CALLS"  # where a wrapper tells its fake to log (set in the wrapper itself)

Call = dict[str, Any]


def is_fake(path: str | Path) -> bool:
    """True for a program `install` wrote (it carries MARKER near its top)."""
    try:
        with Path(path).open("rb") as fh:
            return MARKER.encode() in fh.read(4096)
    except OSError:
        return False


def install(bin_dir: Path, name: str, module: str, *args: str, env: Mapping[str, str] | None = None) -> Path:
    """Write `bin_dir/name`: runs `python -m module args... "$@"` with `env` added.

    The checkout is put on PYTHONPATH so `testing` imports even in a project copy or a child
    process whose working folder is elsewhere."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    exports = {"PYTHONPATH": f"{ROOT}${{PYTHONPATH:+:$PYTHONPATH}}", **(env or {})}
    lines = ["#!/bin/sh", f"# {MARKER}: {name} -> {module}"]
    lines += [f'export {key}="{value}"' for key, value in exports.items()]
    lines.append(" ".join(["exec", f'"{sys.executable}"', "-m", module, *(f'"{a}"' for a in args), '"$@"']))
    path = bin_dir / name
    path.write_text("\n".join(lines) + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def fake_path(bin_dir: Path, current: str | None = None) -> str:
    """PATH with bin_dir first and the venv's bin folder right after it (unless already
    present): the product finds the fakes first, and real tools (kubectl for kustomize) next."""
    parts = [
        p for p in (current if current is not None else os.environ.get("PATH", "")).split(os.pathsep) if p
    ]
    venv_bin = str(Path(sys.executable).parent)
    head = [str(bin_dir)]
    if venv_bin not in parts:
        head.append(venv_bin)
    return os.pathsep.join(head + [p for p in parts if p != str(bin_dir)])


# --------------------------------------------------------------------------- the call log


@contextlib.contextmanager
def flock(path: Path) -> Iterator[None]:
    # Parallel doit threads call fakes at once: one writer at a time, no torn lines.
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def log_call(
    log: Path, tool: str, argv: list[str], mutating: bool, exit_code: int | None, **extra: Any
) -> None:
    line = json.dumps({"tool": tool, "argv": argv, "mutating": mutating, "exit": exit_code, **extra})
    with flock(log.with_suffix(".lock")), log.open("a") as fh:
        fh.write(line + "\n")


def read_calls(log: Path, tool: str | None = None) -> list[Call]:
    """Every logged call (of `tool`), oldest first."""
    with flock(log.with_suffix(".lock")):
        if not log.exists():
            return []
        rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [r for r in rows if tool is None or r["tool"] == tool]


def clear_calls(log: Path) -> None:
    with flock(log.with_suffix(".lock")):
        log.write_text("")


def log_from_env() -> Path:
    """The log a wrapper named (fakes run only through wrappers, which always set it)."""
    raw = os.environ.get(CALLS_ENV)
    if not raw:
        raise RuntimeError(f"{CALLS_ENV} is not set: run fakes through testing.harness.install")
    return Path(raw)


# --------------------------------------------------------------------------- scripted fakes


def script(bin_dir: Path, name: str, body: str, log: Path | None = None) -> Path:
    """Install `name` in bin_dir running `body`: sh lines, or a whole script with its own #! line.

    Its calls go to `log` (default: fake-calls.jsonl next to bin_dir). The body lives in
    <bin_dir>/../fake-scripts/<name>, so a script sees its own name in argv[0] / $0."""
    body_file = bin_dir.parent / "fake-scripts" / name
    body_file.parent.mkdir(parents=True, exist_ok=True)
    body_file.write_text(body if body.startswith("#!") else "#!/bin/sh\n" + body)
    body_file.chmod(0o755)
    return install(
        bin_dir,
        name,
        "testing.fakes.scripted",
        name,
        str(body_file),
        env={CALLS_ENV: str(log or bin_dir.parent / "fake-calls.jsonl")},
    )


class FakeBin:
    """A folder of fakes with one call log: `script()` for a few lines of sh that play one
    behaviour (a daemon that is gone, a tool that prints a version), `activate()` to put it
    first on PATH. Stateful fakes (docker, compose, k8s) install into the same folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin_dir = root / "bin"
        self.log = root / "calls.jsonl"
        self.bin_dir.mkdir(parents=True, exist_ok=True)

    def script(self, name: str, body: str) -> Path:
        """`name` runs the sh `body` (arguments as "$@"); every call is logged."""
        return script(self.bin_dir, name, body, self.log)

    def path(self, base: str | None = None) -> str:
        """PATH with the fakes first, then the venv, then `base` (default: the current PATH)."""
        return fake_path(self.bin_dir, base)

    def activate(self, monkeypatch: pytest.MonkeyPatch, base: str | None = None) -> FakeBin:
        monkeypatch.setenv("PATH", self.path(base))
        return self

    def calls(self, tool: str | None = None) -> list[Call]:
        return read_calls(self.log, tool)

    def argvs(self, tool: str) -> list[list[str]]:
        return [c["argv"] for c in self.calls(tool)]

    def clear_calls(self) -> None:
        clear_calls(self.log)
