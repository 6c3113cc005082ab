"""Rules over the whole merged file: what must be set, and lists that repeat nothing."""

from __future__ import annotations

from typing import Any

from tasks.config import schema as s
from tasks.config.fields import MIN_POD_UID, SECRET_LIKE, TOP
from tasks.config.merged import Merged
from tasks.config.yamlpos import KeyPath


def required_keys_are_set(m: Merged) -> None:
    """What is required is checked once the files are merged: an environment file may add a
    service, a database or a cloud block of its own."""
    if missing := s.first_missing(m.data, TOP):
        path, keys = missing
        raise m.error(path, *s.missing_keys(keys, path))


def lists_have_no_repeats(m: Merged) -> None:
    lists: list[tuple[KeyPath, list[Any]]] = [
        ((key,), m.data.get(key, [])) for key in ("secrets", "disabled_services", "components")
    ]
    lists.append((("minikube", "addons"), m.data["minikube"]["addons"]))
    for name in m.enabled():
        raw = m.data["services"][name]
        lists += [(("services", name, key), raw.get(key, [])) for key in ("uses", "optional_uses", "secrets")]
    for path, items in lists:
        seen: set[Any] = set()
        for i, item in enumerate(items):
            if item in seen:
                raise m.error(path + (i,), f"{item!r} is listed twice", "remove the duplicate")
            seen.add(item)


def secrets_are_never_plain_values(m: Merged) -> None:
    """Plain values land in ConfigMaps and committed Compose files: never under a secret's name."""
    secrets = set(m.data.get("secrets", []))
    plain = [(("config", k), k) for k in m.data.get("config", {})] + [
        (("services", n, "env", k), k) for n, raw in m.data["services"].items() for k in raw.get("env", {})
    ]
    for path, key in plain:
        if key in secrets:
            raise m.error(
                path,
                f"{key} is a secret: this value would be written in plain text",
                f"remove it here; set {key} in compose/<env>/.env or the Kubernetes Secret",
            )


# Read before any environment is chosen (the run's environment, the command line's words), or
# rendered once from the stack for every environment (the monitoring and logging components).
STACK_ONLY = ("default_env", "aliases", "monitoring", "logging")


def stack_only_keys_are_set_in_the_stack_file(m: Merged) -> None:
    for doc in m.docs[1:]:
        for key in STACK_ONLY:
            if isinstance(doc.data, dict) and key in doc.data:
                raise m.error(
                    (key,),
                    f"{key} is a setting of the project, not of one environment",
                    f"move it to {m.docs[0].file}",
                )


def default_env_names_an_environment(m: Merged) -> None:
    name = m.data.get("default_env")
    if name is not None and name not in m.environments:
        raise m.error(
            ("default_env",),
            f"there is no environment {name!r} (no environments/{name}.yaml)",
            s.did_you_mean(name, m.environments) if m.environments else "create it, or remove default_env",
        )


def aliases_name_tasks_not_aliases(m: Merged) -> None:
    """One step from an alias to its task: `doit list` shows it, and no chain can loop."""
    aliases = m.data.get("aliases", {})
    for alias, task in aliases.items():
        if task in aliases:
            raise m.error(
                ("aliases", alias),
                f"alias {alias} names another alias ({task})",
                f"name the task itself: `{alias}: {aliases[task]}`",
            )


def pod_uid_is_not_a_host_account(m: Merged) -> None:
    """Where the services run in Kubernetes, their pods run as `images.uid`."""
    uid = m.data["images"]["uid"]
    if m.data["runtime"] == "kubernetes" and uid < MIN_POD_UID:
        raise m.error(
            ("images", "uid"),
            f"uid {uid} is below {MIN_POD_UID}: it may be a host account's, so the restricted Pod "
            f"Security policy refuses the services' pods (runtime: kubernetes in {m.docs[-1].file})",
            f"use a uid of {MIN_POD_UID} or more (the images are built for it: build arg UID)",
        )


def plain_settings_are_not_named_like_secrets(m: Merged) -> None:
    """`config` and the databases' address variables land in ConfigMaps, which the restricted
    policy check refuses to hold a key named like a secret."""
    plain: list[tuple[KeyPath, str]] = [(("config", key), key) for key in m.data.get("config", {})]
    plain += [(("databases", name, "env_var"), raw["env_var"]) for name, raw in m.data["databases"].items()]
    for path, key in plain:
        if SECRET_LIKE.search(key):
            raise m.error(
                path,
                f"{key} is named like a secret, but this value is plain text in a ConfigMap",
                f"list {key} under `secrets:` and set it in compose/<env>/.env or the Kubernetes "
                "Secret; or rename it",
            )
