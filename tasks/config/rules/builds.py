"""Rules about image builds: every service has a spec, and what a spec names exists."""

from __future__ import annotations

from typing import Any

from tasks.config.fields import TOOL_ARGS
from tasks.config.merged import Merged
from tasks.config.yamlpos import KeyPath
from tasks.store import paths


def every_service_has_a_build_spec(m: Merged) -> None:
    for name in m.enabled():
        if m.build_of(name) is None:
            raise m.error(
                ("services", name),
                f"service {name!r} has no build spec",
                "add `build: {context: <folder>, dockerfile: <file>}` under it, or a default "
                "`images.service_build:` for every service",
            )


def _specs(m: Merged) -> list[tuple[KeyPath, dict[str, Any]]]:
    """Every build spec images are made from here: the builder's, then the services'."""
    specs: list[tuple[KeyPath, dict[str, Any]]] = []
    if "builder" in m.data["images"]:
        specs.append((("images", "builder"), m.data["images"]["builder"]))
    return specs + [spec for name in m.enabled() if (spec := m.build_of(name))]


def build_args_are_not_the_tools(m: Merged) -> None:
    for at, spec in _specs(m):
        for key in spec.get("args", {}):
            if key in TOOL_ARGS:
                raise m.error(
                    at + ("args", key),
                    f"build arg {key} is passed by the tool itself",
                    "remove it here (BASE_IMAGE: images.base_image, UID: images.uid, SERVICE: the "
                    "service name, BUILDER_IMAGE: the builder's image)",
                )


def copying_from_the_builder_needs_a_builder(m: Merged) -> None:
    for name in m.enabled():
        spec = m.build_of(name)
        if spec and spec[1].get("builder", False) and "builder" not in m.data["images"]:
            raise m.error(
                spec[0] + ("builder",),
                f"service {name!r} copies from the builder, but there is no builder",
                "add `images.builder: {context: ..., dockerfile: ...}`, or set `builder: false`",
            )


def build_inputs_exist(m: Merged) -> None:
    """Else `docker build` fails later, far from the line that named them."""
    wanted: list[tuple[KeyPath, str, bool]] = []
    for at, spec in _specs(m):
        context = str(spec["context"]).rstrip("/")
        wanted.append((at + ("context",), context, True))
        # Without `dockerfile`, Compose's default: the context's Dockerfile.
        wanted.append(
            (
                at + ("dockerfile",) if "dockerfile" in spec else at + ("context",),
                spec.get("dockerfile", f"{context}/Dockerfile"),
                False,
            )
        )
    for name, raw in m.data["databases"].items():
        if not paths.is_tool(m.root) and paths.tool_build_folder(str(raw.get("build") or "")):
            continue  # one of the tool's docker/<name>: `doit render` copies it (render/build_copies.py)
        if raw.get("build") and m.placement(name) != "disabled":
            wanted.append((("databases", name, "build"), raw["build"], True))
            wanted.append((("databases", name, "build"), f"{raw['build']}/Dockerfile", False))
    for path, rel, folder in dict.fromkeys(wanted):
        target = m.root / rel
        if not (target.is_dir() if folder else target.is_file()):
            raise m.error(
                path,
                f"{rel} is not a {'folder' if folder else 'file'} in the project",
                "fix the path (relative to the project root) or create it",
            )
