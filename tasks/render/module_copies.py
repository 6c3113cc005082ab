"""Terraform modules for a project that is not the tool's checkout: byte-for-byte copies of
the tool's modules its environment roots call (terraform/modules/), and a README saying so.

Removing copies no environment uses any more is `tasks/render/writer.py: prune_copies`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

from tasks.config import cloud_db
from tasks.model import Config
from tasks.render import build_copies, templates
from tasks.render.templates import Outputs
from tasks.store import paths, state

# The modules every root calls (templates/terraform/root/main.tf.j2); the database modules
# come from `cloud.databases` (cloud_db.chosen).
BASE_MODULES = ("networking", "eks", "ecr", "github-oidc", "secrets-manager")
MODULES = "terraform/modules"
MODULES_README = f"{MODULES}/README.md"


def modules_used(cfg: Config) -> list[str]:
    """The tool modules a cloud environment's root calls at `../../modules/<name>`."""
    return sorted({*BASE_MODULES, *cloud_db.chosen(cfg.cloud, cfg.project)})


def module_copies(cfgs: Iterable[Config], root: Path) -> Outputs:
    """A project that is not the tool's checkout has no terraform/modules/ of its own: the
    tool's modules its roots call are copied into it byte for byte, so the roots' relative
    sources resolve and the project's terraform/ is complete (plan, validate, checkov). A
    README there says so (a comment in a copy would change its bytes); a README of the
    project's own there is never overwritten (as docker/README.md, tasks/render/build_copies.py)."""
    users: dict[str, list[str]] = {}
    for cfg in cfgs:
        if cfg.cloud is not None:
            for name in modules_used(cfg):
                users.setdefault(name, []).append(cfg.env)
    build_copies.refuse_own_readme(
        root, MODULES_README, sorted(users), "stackbuild's Terraform modules", "docs/terraform-modules.md"
    )
    out: Outputs = {}
    for name in sorted(users):
        for source in tool_module_files(name):
            rel = source.relative_to(paths.TOOL / MODULES / name).as_posix()
            out[f"{MODULES}/{name}/{rel}"] = functools.partial(_exact_text, source)
    if users:
        out[MODULES_README] = templates.render_later(
            "terraform/modules.README.md.j2", users=dict(sorted(users.items()))
        )
    return out


def tool_module_files(name: str) -> list[Path]:
    """Every file of one of the tool's Terraform modules (never another run's temp file)."""
    # The README is rendered from the templates: an install without them says that first.
    templates.tool_folder(paths.templates(), "templates are")
    folder = templates.tool_folder(paths.TOOL / MODULES / name, f"{MODULES}/{name} is")
    return sorted(p for p in folder.rglob("*") if p.is_file() and not state.is_temp(p))


def _exact_text(source: Path) -> str:
    # Bytes decoded as they are (read_text would turn a CRLF into LF): a copy is the same bytes.
    return source.read_bytes().decode("utf-8")
