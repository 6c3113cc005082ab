"""The docs stay true: their command examples that need no daemon or cluster run on a
scratch copy of the project, and the facts they quote match the code that has them."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.programs import tools
from testing.project import REPO, copy_project, run_doit

# The examples run whole commands (doctor, list --status) that ask docker and kubectl.
pytestmark = pytest.mark.usefixtures("fake_machine")

DOCS = [
    REPO / "README.md",
    REPO / "CHANGELOG.md",
    REPO / "terraform/environments/README.md",
    *sorted((REPO / "docs").glob("*.md")),
]
# What may run here: no daemon, no cluster, no cloud account.
SAFE = {"list", "help", "info", "doctor", "render", "validate", "tf_fmt", "tf_validate", "checkov"}
DOIT_COMMANDS = {"list", "help", "info"}
PLACEHOLDER = re.compile(r"<|>|\bENV\b|\bX\b|\.\.\.|\[|\||\$")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
INLINE = re.compile(r"`((?:\.venv/bin/)?doit\b[^`]*)`")


def examples(text: str) -> list[str]:
    """Every `doit ...` command line in shell blocks and inline code."""
    found = []
    for lang, body in FENCE.findall(text):
        if lang in ("sh", "bash", "shell", ""):
            found += [line for line in body.splitlines()]
    found += INLINE.findall(text)
    out = []
    for line in found:
        line = line.split("#", 1)[0].strip().removeprefix(".venv/bin/")
        if re.match(r"^doit(\s|$)", line):
            out.append(line)
    return out


def runnable(command: str) -> bool:
    if PLACEHOLDER.search(command):
        return False
    words = [w for w in shlex.split(command)[1:] if not w.startswith("-") and "=" not in w]
    words = [w for w in words if w != "json"]  # the value of --reporter
    if words == ["info"]:
        return False  # a name in prose ("`doit info` names ..."), not a command
    return not words or words[0].split(":")[0] in SAFE


def all_examples() -> list[str]:
    return sorted({c for path in DOCS for c in examples(path.read_text(encoding="utf-8")) if runnable(c)})


def test_examples_are_found() -> None:
    found = all_examples()
    for must in ("doit", "doit doctor", "doit list", "doit render", "doit help images_prune"):
        assert must in found, found
    assert len(found) >= 8


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("docs") / "project")


@pytest.mark.parametrize("command", all_examples())
def test_example_runs(command: str, scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As on a developer's machine: checkov and provider schemas may be missing (they skip).
    monkeypatch.delenv("CI", raising=False)
    args = shlex.split(command)[1:]
    sub = args[0] if args and args[0] in DOIT_COMMANDS else "run"
    result = run_doit(scratch, *(args[1:] if sub != "run" else args), command=sub)
    assert "Traceback" not in result.out, result.out
    if sub == "info":
        assert result.code in (0, 1) and "status" in result.out, result.out  # 1: it would run
    elif args[:1] == ["doctor"]:
        # Whether this machine has everything is not the docs' business; the table is.
        assert result.code in (0, 1), result.out
        assert any(
            line.split()[:3] == ["check", "status", "found"]
            for line in result.out.splitlines()
            if line.strip()
        ), result.out
    else:
        assert result.code == 0, result.out


def test_readme_doctor_output_has_the_rows_doctor_prints(scratch: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = next(body for lang, body in FENCE.findall(readme) if "Docker daemon" in body and lang == "text")
    shown = [line.split("  ")[0] for line in block.splitlines()[2:] if line and not line.startswith("(")]
    real = run_doit(scratch, "doctor").out.splitlines()
    start = next(i for i, line in enumerate(real) if line.startswith("check "))
    printed = [line.split("  ")[0] for line in real[start + 2 :] if line.strip()][: len(shown) - 1]
    assert shown[:-1] == printed
    assert block.splitlines()[0].split() == real[start].split()


def test_readme_doit_cfg_is_the_examples_file() -> None:
    # The README shows a user project's whole doit.cfg; the guestbook's is the one that runs.
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [shown] = [body for lang, body in FENCE.findall(readme) if lang == "ini" and "[COMMAND]" in body]
    assert shown == (REPO / "examples/guestbook/doit.cfg").read_text(encoding="utf-8")


def architecture_tree() -> dict[str, set[str]]:
    """docs/architecture.md's opening tree of tasks/: each folder (`tasks/ops/targets`) and the
    words on its lines (a folder's line and the indented lines after it)."""
    text = (REPO / "docs/architecture.md").read_text(encoding="utf-8")
    lines = FENCE.findall(text)[0][1].splitlines()
    assert lines[0] == "tasks/"
    path, current = ["tasks"], "tasks"
    words: dict[str, set[str]] = {current: set()}
    for line in lines[1:]:
        indent, first = len(line) - len(line.lstrip()), line.split()[0]
        if first.endswith("/"):  # a folder: two spaces of indent per level
            path = [*path[: indent // 2], first.rstrip("/")]
            current = "/".join(path)
            words.setdefault(current, set())
        elif indent == 2:  # the flat core's line
            current = "tasks"
        words[current] |= set(re.findall(r"[a-z0-9_]+", line))
    return words


def test_the_architecture_tree_names_every_module_of_tasks() -> None:
    tree = architecture_tree()
    modules = sorted(p.relative_to(REPO) for p in (REPO / "tasks").rglob("*.py"))
    assert sorted(tree) == sorted({m.parent.as_posix() for m in modules})  # every folder, no other
    unnamed = [
        m.as_posix() for m in modules if m.stem != "__init__" and m.stem not in tree[m.parent.as_posix()]
    ]
    assert unnamed == [], "name each in its folder's lines of the tree in docs/architecture.md"


def normal(text: str) -> str:
    return " ".join(text.split())


def test_troubleshooting_quotes_every_known_failure() -> None:
    readme = normal((REPO / "README.md").read_text(encoding="utf-8"))
    for _, sentence in tools.KNOWN_FAILURES:
        assert normal(sentence) in readme, sentence


def test_one_checkov_install_instruction_the_one_ci_uses() -> None:
    found = re.search(r"pip install[^\n]*('checkov==[0-9.]+')", (REPO / ".ci/run").read_text())
    assert found is not None
    pin = found.group(1)
    for workflow in sorted((REPO / ".github/workflows").glob("*.yml")):
        assert set(re.findall(r"'checkov==[0-9.]+'", workflow.read_text())) <= {pin}, workflow.name


TEST_ID = re.compile(r"`(tests/[\w/]+\.py::\w+(?:\[[^\]`]+\])?)`")


def named_test_ids(text: str) -> list[str]:
    """Every pytest node id a page names in inline code: `tests/<path>.py::test_name[param id]`."""
    return TEST_ID.findall(text)


def collected(files: list[str]) -> set[str]:
    """The node ids pytest collects from these files (collected, never run)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return {line for line in result.stdout.splitlines() if "::" in line}


def test_the_id_pattern_takes_whole_ids_only() -> None:
    text = "`tests/unit/a/test_b.py::test_c[x y]`, `…[z]`, `tests/contract/test_d.py::test_e`, `test_f.py::g`"
    assert named_test_ids(text) == ["tests/unit/a/test_b.py::test_c[x y]", "tests/contract/test_d.py::test_e"]


def test_every_test_id_in_the_docs_exists() -> None:
    named = {
        (path.relative_to(REPO).as_posix(), i) for path in DOCS for i in named_test_ids(path.read_text())
    }
    ids = {i for _, i in named}
    # docs/testing.md's table of the bugs each test catches names more than thirty tests.
    assert len(ids) >= 30
    files = sorted({i.split("::")[0] for i in ids})
    missing = [f for f in files if not (REPO / f).is_file()]
    assert missing == [], "no such test file"
    real = collected(files)
    assert sorted((doc, i) for doc, i in named if i not in real) == [], "no such test: grep for its new id"
