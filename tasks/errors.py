"""The one user-facing error type, and how it is shown.

Expected failures (bad config, a missing tool, a daemon that is down) raise a
StackError carrying a fix. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class StackError(Exception):
    """A failure the user can fix. `str()` is the whole message, fix included."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(self.render())

    def render(self) -> str:
        return self.message if not self.fix else f"{self.message}\nFix: {self.fix}"


class ConfigError(StackError):
    """Bad configuration, located by file, key path and line (cfgv-style trail)."""

    def __init__(
        self, file: str, keypath: str, line: int | None, problem: str, *, fix: str | None = None
    ) -> None:
        self.file = file
        self.keypath = keypath
        self.line = line
        self.problem = problem
        where = f"==> File {file}" + (f", line {line}" if line else "")
        trail = f"{where}\n==> At {keypath or '(top level)'}\n=====> {problem}"
        super().__init__(trail, fix=fix)


class ToolError(StackError):
    """An external program failed: the command, its exit code and its stderr tail."""

    def __init__(
        self, cmd: list[str], code: int, stderr: str, *, fix: str | None = None, stdout: str = ""
    ) -> None:
        self.cmd = cmd
        self.code = code
        self.stderr = stderr
        self.stdout = stdout
        tail = "\n".join((stderr or stdout).strip().splitlines()[-20:])
        msg = f"command failed (exit {code}): {' '.join(cmd)}"
        if tail:
            msg += "\n" + "\n".join("    " + line for line in tail.splitlines())
        super().__init__(msg, fix=fix)


def missing_package(exc: ImportError) -> StackError:
    """A Python package a long-running task imports only when it runs (watchfiles, uvicorn,
    starlette), absent from an environment installed before the project added it."""
    return StackError(
        f"the Python package {exc.name or '?'} is not installed in this virtualenv",
        fix="install the project again, as the README says: .venv/bin/pip install -e '.[dev]'",
    )
