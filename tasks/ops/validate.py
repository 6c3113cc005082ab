"""Offline checks of the rendered files with the real tools: a Kubernetes overlay (kustomize,
strict schemas, the restricted Pod Security profile), Compose files, Dockerfiles.

Schema validation is per document and remembered by content: kubernetes-validate (about 20 ms
a document) only sees the documents no earlier check of any environment passed, so changing
one value re-validates the one document it changes, not the whole overlay.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
from pathlib import Path

import yaml

from tasks.checks import crds, policy
from tasks.errors import StackError
from tasks.model import ARGOCD_APPLICATION
from tasks.ops import kustomize_slices
from tasks.output import console
from tasks.programs import actionlint as actionlint_cli
from tasks.programs import compose, kubernetes_validate
from tasks.programs import hadolint as hadolint_cli
from tasks.store import passed, state


def check_overlay(env: str, version: str, out: str, log_namespace: str = "") -> None:
    """Build k8s/overlays/<env>, validate it strictly against Kubernetes `version` and the
    restricted profile (but the logging component's written exception, in `log_namespace`:
    tasks/checks/policy.py `log_shipper`); only then write the built manifests to `out`."""
    sliced = kustomize_slices.build(f"k8s/overlays/{env}", env)
    built = with_application(env, sliced.text)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    docs = documents(built)
    if not docs:
        # An empty stream passes every check vacuously: a broken kustomize would "validate".
        raise StackError(
            f"k8s/overlays/{env}: `kubectl kustomize` built no documents (it printed nothing)",
            fix=f"run `doit render` to regenerate k8s/, and check that the `kubectl` on PATH is the "
            f"real one (`kubectl kustomize k8s/overlays/{env}` must print the manifests)",
        )
    keys = {document_key(doc, version): doc for doc in docs}
    known = validated()
    fresh = [doc for key, doc in keys.items() if key not in known]
    todo = crds.native(fresh, f"k8s/overlays/{env}")  # custom resources: their shipped CRD schemas
    if todo:
        _validate_schemas(todo, version, target)
    exemptions = [policy.log_shipper(log_namespace)] if log_namespace else []
    problems = policy.violations(yaml.load_all(built, Loader=LOADER), exemptions)
    if problems:
        raise StackError(
            f"k8s/overlays/{env} breaks the restricted Pod Security Standard:\n"
            + "\n".join(f"  - {p}" for p in problems),
            # What a configuration value can break is refused when it loads, at its key
            # (tasks/config): here only a hand edit of k8s/ or the tool's own templates remain.
            fix="run `doit render` (k8s/ is generated: it rewrites a hand edit); if the problem "
            "stays, it is the tool's templates/k8s/: please report it",
        )
    state.write_atomic(target, built)  # the built manifest exists only once every check passed
    if not passed.remember(state.k8s_validated(env), sorted(keys)):
        console.note(f"{state.k8s_validated(env)} could not be written: the next check validates again")
    # Custom resources were validated too (against their CRDs, in crds.native): count them.
    reused = (
        f" ({len(fresh)} of {len(keys)} documents validated; the others passed before)"
        if len(fresh) < len(keys)
        else ""
    )
    # Built in slices (tasks/ops/kustomize_slices.py): say how many kustomize had to build.
    slices = f" ({sliced.rebuilt} of {sliced.slices} kustomize slices built)" if sliced.slices > 1 else ""
    console.step(f"k8s/overlays/{env}: schema {version} strict OK, restricted profile OK{reused}{slices}")


def with_application(env: str, built: str) -> str:
    """The built overlay and, in argocd mode, the Argo CD Application beside it (not one of
    the overlay's resources): checked as strictly, against its shipped CRD schema, and
    scanned by checkov with the rest."""
    beside = Path(f"k8s/overlays/{env}") / ARGOCD_APPLICATION
    if not beside.is_file():
        return built
    return built.rstrip("\n") + "\n---\n" + beside.read_text(encoding="utf-8")


# libyaml when PyYAML has it: a 300-service overlay is a megabyte of YAML.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)


def documents(built: str) -> list[str]:
    """The documents of a multi-document YAML stream (kustomize's output), each as its text."""
    return [doc.strip("\n") + "\n" for doc in _SEPARATOR.split(built) if doc.strip()]


def document_key(doc: str, version: str) -> str:
    """What a strict schema check of one document depends on: its text, the Kubernetes version
    the validator's own version (its schemas ship with it) and the CRD schemas shipped here."""
    checker = f"{_validator()}\0{crds.fingerprint()}"
    return hashlib.sha256(f"{version}\0strict\0{checker}\0{doc}".encode()).hexdigest()


@functools.cache
def _validator() -> str:
    from importlib import metadata  # only when an overlay is checked: it costs a start-up

    try:
        return metadata.version("kubernetes-validate")
    except metadata.PackageNotFoundError:
        return "not installed"  # kubernetes_validate.strict then says how to install it


def validated() -> set[str]:
    """Keys of every document some environment's checks passed (tasks/store/passed.py)."""
    return passed.passed(state.k8s_validated())


def _validate_schemas(docs: list[str], version: str, target: Path) -> None:
    # The file kubernetes-validate reads. A unique name: two runs (or two environments)
    # never validate each other's file.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("---\n".join(docs))
        # --strict rejects unknown fields; the version is pinned in environments/stack.yaml.
        kubernetes_validate.strict(tmp, version)
    finally:
        Path(tmp).unlink()  # mkstemp made it; nothing else removes it


def check_compose(files: list[str]) -> None:
    """`docker-compose config -q` on each file, with the committed .env.example."""
    for path in files:
        folder = Path(path).parent
        # Secrets must be set for `config`; the committed example has placeholders.
        compose.check_file(path, str(folder / ".env.example"))
        console.step(f"{path}: OK")


def hadolint(dockerfiles: list[str]) -> None:
    """hadolint on every Dockerfile (a finding fails with its report)."""
    console.show(hadolint_cli.lint(dockerfiles) or "  hadolint OK")


ACTIONLINT_INSTALL = actionlint_cli.INSTALL


def actionlint_found() -> bool:
    return actionlint_cli.found()


def actionlint(workflows: list[str]) -> None:
    """actionlint over the GitHub workflows (a finding fails with its report). Without actionlint
    the check is SKIPPED loudly, and the task is never recorded as up to date (it runs again)."""
    if not workflows:
        console.step("no GitHub workflows (.github/workflows/): nothing for actionlint")
        return
    if not actionlint_cli.found():
        console.skipped(actionlint_cli.not_found(), loud=True)
        return
    clean = f"  actionlint OK ({len(workflows)} workflows, {actionlint_cli.build()})"
    console.show(actionlint_cli.lint(workflows) or clean)
