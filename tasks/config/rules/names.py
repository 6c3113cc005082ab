"""Rules about names: the ones the tool uses itself, how long a name may be where it lands, and
files in environments/ the loader would never read."""

from __future__ import annotations

from pathlib import Path

from tasks.config import disk
from tasks.config.merged import Merged
from tasks.errors import ConfigError

ENV_DIR = "environments"
FILE_NAME = "(file name)"
# Environment names the tool's own outputs and tasks already use: each environment gets the
# render subtasks compose-<env>, k8s-<env> and terraform-<env>, beside the stack's own k8s-base,
# k8s-components and terraform-modules (and folders k8s/base, k8s/components, terraform/modules).
RESERVED_ENVIRONMENTS = {
    "base": "k8s/base (the stack's Kustomize base) and the task render:k8s-base",
    "components": "k8s/components and the task render:k8s-components",
    "modules": "terraform/modules (the modules the roots call) and the task render:terraform-modules",
}
# Images the tool builds itself (images:base, images:builder): a built database may not take them.
TOOL_IMAGES = ("base", "builder")
# A StatefulSet's pods carry the label controller-revision-hash=<name>-<10 characters>, and a
# label value takes 63: Kubernetes accepts a longer name, then never starts a pod.
STATEFULSET_NAME = 52


def _file_error(m: Merged, problem: str, fix: str) -> ConfigError:
    return ConfigError(m.docs[-1].file, FILE_NAME, None, problem, fix=fix)


def environment_names_are_not_the_tools(m: Merged) -> None:
    if m.alone or m.env not in RESERVED_ENVIRONMENTS:
        return
    raise _file_error(
        m,
        f"{m.env!r} is a name the tool uses itself: {RESERVED_ENVIRONMENTS[m.env]}",
        f"rename the file, e.g. git mv {ENV_DIR}/{m.env}.yaml {ENV_DIR}/{m.env}-env.yaml",
    )


def environment_files_end_in_yaml(m: Merged) -> None:
    """`environments/qa.yml` is never read: environments are the `*.yaml` files."""
    stray = disk.names(m.root / ENV_DIR, "*.yml")
    if stray:
        name = f"{ENV_DIR}/{stray[0]}"
        raise ConfigError(
            name,
            FILE_NAME,
            None,
            f"{name} is never read: environment files end in .yaml",
            fix=f"rename it: git mv {name} {ENV_DIR}/{Path(stray[0]).stem}.yaml",
        )


def built_databases_are_not_named_like_the_tools_images(m: Merged) -> None:
    for name, raw in m.data["databases"].items():
        if raw.get("build") and name in TOOL_IMAGES:
            raise m.error(
                ("databases", name),
                f"{name!r} is the name of the tool's own {name} image, and this database's image is built",
                "rename the database: its image would overwrite that one's record (images:" + name + ")",
            )


def cluster_database_names_fit_a_statefulset(m: Merged) -> None:
    for name, raw in m.data["databases"].items():
        if raw.get("cluster") and len(name) > STATEFULSET_NAME:
            raise m.error(
                ("databases", name),
                f"{name!r} is {len(name)} characters: as a StatefulSet its pods would never start "
                f"(their controller-revision-hash label takes the name and 11 more, at most 63)",
                f"shorten the name to {STATEFULSET_NAME} characters or fewer",
            )
