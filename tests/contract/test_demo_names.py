"""The generic parts know no demo (issue 12): tasks/, templates/, docker/ and terraform/modules/
never name the demo's project, package or services outside comments and docstrings.

The names come from the demo's own configuration (environments/stack.yaml), so a service
added to the demo is guarded too; the demo and examples/ may name anything.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import yaml

from testing.project import REPO

# The Terraform modules are generic too: every stack's environments call them.
GENERIC = ("tasks", "templates", "docker", "terraform/modules")


def demo_names() -> set[str]:
    stack = yaml.safe_load((REPO / "environments" / "stack.yaml").read_text())
    return {*stack["services"], stack["project"], stack["namespace"], "srvthreds_demo"}


def _python_code(text: str) -> str:
    """The source without comments and docstrings (any string that is a whole statement)."""
    docs: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            docs.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    kept = [
        tok.string
        for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        if tok.type != tokenize.COMMENT and not (tok.type == tokenize.STRING and tok.start[0] in docs)
    ]
    return " ".join(kept)


_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
# A `#` comment: a whole line, or after whitespace at the end of one (YAML, HCL, shell, Dockerfile).
_LINE_COMMENT = re.compile(r"(^\s*(#|//).*$)|(\s+#\s.*$)", re.MULTILINE)


# An HCL attribute name (`engine = "postgres"` in an RDS resource) is the provider's word, not
# a name the stack chose; only values can leak the demo.
_HCL_ATTRIBUTE = re.compile(r"^(\s*)[\w-]+(\s*=)", re.MULTILINE)


def code_of(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".py":
        return _python_code(text)
    code = _LINE_COMMENT.sub("", _JINJA_COMMENT.sub("", text))
    return _HCL_ATTRIBUTE.sub(r"\1\2", code) if path.suffix == ".tf" else code


def demo_mentions(root: Path, names: set[str]) -> list[str]:
    word = re.compile(r"(?<![\w-])(" + "|".join(sorted(map(re.escape, names))) + r")(?![\w-])", re.IGNORECASE)
    found = []
    for folder in GENERIC:
        for path in sorted((root / folder).rglob("*")):
            rel = path.relative_to(root).as_posix()
            if not path.is_file() or "__pycache__" in rel:
                continue
            for _n, line in enumerate(code_of(path).splitlines(), 1):
                if match := word.search(line):
                    found.append(f"{rel}: {match.group(0)!r} in {line.strip()[:100]!r}")
    return found


def test_the_generic_parts_name_no_demo_service_package_or_project() -> None:
    assert demo_mentions(REPO, demo_names()) == []


def test_the_guard_finds_a_demo_name_in_code_but_not_in_a_comment(tmp_path: Path) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "templates").mkdir()
    (tmp_path / "tasks" / "a.py").write_text(
        '"""About engine."""\n# engine\nUSER = "srvthreds"  # a default\n'
    )
    (tmp_path / "templates" / "b.yaml.j2").write_text(
        "{# engine #}\n# session-agent\nname: session-agent  # x\n"
    )
    (tmp_path / "terraform" / "modules" / "db").mkdir(parents=True)
    (tmp_path / "terraform" / "modules" / "db" / "main.tf").write_text(
        'engine = "postgres"\nname = "engine"\n'
    )
    assert demo_mentions(tmp_path, {"engine", "srvthreds", "session-agent"}) == [
        "tasks/a.py: 'srvthreds' in 'USER = \"srvthreds\"'",
        "templates/b.yaml.j2: 'session-agent' in 'name: session-agent'",
        "terraform/modules/db/main.tf: 'engine' in '= \"engine\"'",
    ]
