"""Every output of a project's environments, rendered in this process (what `doit render` writes)."""

from __future__ import annotations

from pathlib import Path


def all_outputs(root: Path) -> dict[str, str]:
    """path -> text of the base, the components and every environment's outputs (run from `root`:
    the templates are found relative to the project, as under doit)."""
    from tasks.config import load as config
    from tasks.render import files
    from tasks.render.templates import Outputs, texts

    stack = config.load_stack(root)
    out: Outputs = {**files.k8s_base(stack), **files.k8s_components(stack)}
    for env in config.environments(root):
        cfg = config.load(env, root)
        out.update(files.compose(cfg))
        if cfg.runtime == "kubernetes":
            out.update(files.k8s_overlay(cfg, stack))
        if cfg.cloud:
            out.update(files.terraform(cfg))
    return texts(out)
