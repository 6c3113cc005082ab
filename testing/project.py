"""A scratch copy of the project, and doit run in-process on it, as a user would from its root."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COPIED = [
    "dodo.py",
    "pyproject.toml",
    "tasks",
    "environments",
    "templates",
    "k8s",
    "compose",
    "terraform",
    "docker",
    "demo",
    # The CRD schemas `doit validate` checks custom resources against (tasks/checks/crds.py).
    "schemas",
]


def copy_project(dest: Path) -> Path:
    """Copy the project's sources and committed output to `dest` (no build state, no secrets)."""
    dest.mkdir(parents=True)
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(
                src, dest / name, ignore=shutil.ignore_patterns("__pycache__", ".terraform", ".env")
            )
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


def snapshot(root: Path, *folders: str) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for folder in folders
        for p in sorted((root / folder).rglob("*"))
        if p.is_file()
    }


class DoitRun:
    def __init__(self, code: int, out: str) -> None:
        self.code = code
        self.out = out

    def executed(self) -> list[str]:
        """Tasks doit ran (it prints '.  name' for executed and '-- name' for up-to-date)."""
        return [line[3:].strip() for line in self.out.splitlines() if line.startswith(".  ")]


def run_doit(project: Path, *args: str, command: str = "run") -> DoitRun:
    """Run `doit <command> args` in-process on `project`, as a user would from its root."""
    from doit.doit_cmd import DoitMain

    out = io.StringIO()
    # doit's reporter writes to the stdout it saw at import; send it to a file instead.
    report = project / ".build" / "doit-report.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    argv = [command, "-f", str(project / "dodo.py")]
    if command == "run":
        argv += ["--output-file", str(report)]
    old, old_argv = Path.cwd(), sys.argv
    sys.modules.pop("dodo", None)  # doit imports dodo.py by module name; load this copy's
    try:
        os.chdir(project)
        # dodo.py resolves the run from argv, as it does under the real `doit` command.
        sys.argv = ["doit", *argv, *args]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                code = DoitMain().run([*argv, *args])
            except SystemExit as exc:  # dodo.py exits early on a usage or configuration error
                code = int(exc.code or 0)
    finally:
        sys.argv = old_argv
        os.chdir(old)
        from tasks.ops import docker_images
        from tasks.store import state

        # What a real run keeps in memory ends with its process.
        state.release_lock()
        docker_images.LISTINGS.forget()
    text = report.read_text() if report.exists() else ""
    report.unlink(missing_ok=True)
    return DoitRun(code, text + out.getvalue())


def copy_build_state(project: Path, env: str, *names: str) -> None:
    """Reuse images recorded by an earlier run (e.g. the debootstrap base) in a copy."""
    src = REPO / ".build" / env / "images"
    dest = project / ".build" / env / "images"
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        for suffix in (".iid", ".ref"):
            if (src / f"{name}{suffix}").exists():
                shutil.copy2(src / f"{name}{suffix}", dest / f"{name}{suffix}")


def git(root: Path, *args: str) -> str:
    """`git -C root <args>` as a test's scratch repository needs it (a committer of its own, so no
    global configuration is read); its output, stripped. A failure raises."""
    done = subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()
