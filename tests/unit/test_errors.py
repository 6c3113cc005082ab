"""The one user-facing error type and how it reads (tasks/errors.py)."""

from __future__ import annotations

from tasks.errors import ConfigError, StackError, ToolError, missing_package


def test_stack_error_shows_its_fix_only_when_there_is_one() -> None:
    assert str(StackError("it broke")) == "it broke"
    assert str(StackError("it broke", fix="")) == "it broke"
    err = StackError("it broke", fix="mend it")
    assert (err.message, err.fix) == ("it broke", "mend it")
    assert str(err) == err.render() == "it broke\nFix: mend it"


def test_config_error_names_file_line_and_key_path() -> None:
    err = ConfigError("environments/dev.yaml", "services.engine", 7, "bad value", fix="change it")
    assert (err.file, err.keypath, err.line, err.problem) == (
        "environments/dev.yaml",
        "services.engine",
        7,
        "bad value",
    )
    assert str(err) == (
        "==> File environments/dev.yaml, line 7\n==> At services.engine\n=====> bad value\nFix: change it"
    )


def test_config_error_without_a_line_or_key_path() -> None:
    err = ConfigError("environments/dev.yaml", "", None, "empty file")
    assert str(err) == "==> File environments/dev.yaml\n==> At (top level)\n=====> empty file"


def test_tool_error_shows_the_command_code_and_last_twenty_lines_of_stderr() -> None:
    stderr = "\n".join(f"line {i}" for i in range(1, 31)) + "\n"
    err = ToolError(["docker", "build", "."], 2, stderr, fix="retry", stdout="ignored")
    assert (err.cmd, err.code, err.stderr, err.stdout) == (["docker", "build", "."], 2, stderr, "ignored")
    lines = str(err).splitlines()
    assert lines[0] == "command failed (exit 2): docker build ."
    assert lines[1:21] == [f"    line {i}" for i in range(11, 31)]
    assert lines[21:] == ["Fix: retry"]


def test_tool_error_falls_back_to_stdout_and_may_have_no_tail() -> None:
    assert str(ToolError(["make"], 1, "", stdout="out 1\nout 2\n")) == (
        "command failed (exit 1): make\n    out 1\n    out 2"
    )
    assert str(ToolError(["make"], 1, "  \n")) == "command failed (exit 1): make"


def test_a_missing_package_names_it_and_the_install_command() -> None:
    error = missing_package(ImportError("No module named 'watchfiles'", name="watchfiles"))
    assert error.message == "the Python package watchfiles is not installed in this virtualenv"
    assert error.fix == "install the project again, as the README says: .venv/bin/pip install -e '.[dev]'"
