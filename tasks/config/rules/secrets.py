"""Rules about secrets: a secret is never shadowed by a variable the tool sets, and a password is
never written as a plain value (an endpoint, a config value or an env value lands in committed
Compose files and in ConfigMaps)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tasks.config.fields import SECRET_LIKE
from tasks.config.merged import Merged
from tasks.config.yamlpos import KeyPath
from tasks.store import images

# Docker Compose and the Docker CLI read these from their environment (and Compose from the
# .env) as their own settings: a secret of that name would change how Compose runs.
RESERVED_PREFIXES = ("COMPOSE_", "DOCKER_")
# `scheme://user:password@host...`: user info with a password (RFC 3986, section 3.2.1).
URL_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://(?P<user>[^/?#@:]*):(?P<password>[^/?#@]+)@")
# An endpoint may also be written without a scheme: `user:password@host:port`.
BARE_PASSWORD = re.compile(r"^(?P<user>[^/?#@:]+):(?P<password>[^/?#@]+)@[^@]+$")


def _tool_variables(m: Merged) -> dict[str, tuple[str, str]]:
    """Variable -> (what the tool passes in it, the key that makes it so)."""
    found: dict[str, tuple[str, str]] = {}
    for name in m.data["services"]:
        found[images.image_var(name)] = (f"the image of service {name!r}", f"services.{name}")
    for name, raw in m.data["databases"].items():
        if "build" in raw:
            found[images.image_var(name)] = (f"the image of database {name!r}", f"databases.{name}.build")
        if "env_var" in raw:
            found[raw["env_var"]] = (f"the address of database {name!r}", f"databases.{name}.env_var")
    return found


def secrets_are_not_the_tools_variables(m: Merged) -> None:
    """The tool sets image variables for Compose and each database's address in every service:
    a secret of the same name would be silently replaced by the tool's value."""
    tool = _tool_variables(m)
    for i, secret in enumerate(m.data.get("secrets", [])):
        if secret in tool:
            what, where = tool[secret]
            raise m.error(
                ("secrets", i),
                f"{secret} is the variable through which the tool passes {what} ({where}): "
                "the tool's value would replace the secret",
                f"rename the secret (here, in compose/<env>/.env and where it is read), or rename {where}",
            )
        if secret.startswith(RESERVED_PREFIXES):
            raise m.error(
                ("secrets", i),
                f"{secret} is a variable Docker Compose reads as its own setting "
                f"({', '.join(p + '*' for p in RESERVED_PREFIXES)})",
                "rename the secret (here, in compose/<env>/.env and where it is read)",
            )


def _plain_values(m: Merged) -> Iterator[tuple[KeyPath, str, bool]]:
    """(key path, value, whether it is an endpoint) of every value written in plain text."""
    for db, value in m.data.get("endpoints", {}).items():
        yield ("endpoints", db), str(value), True
    for key, value in m.data.get("config", {}).items():
        yield ("config", key), str(value), False
    for kind in ("services", "databases"):
        for name, raw in m.data[kind].items():
            for key, value in raw.get("env", {}).items():
                yield (kind, name, "env", key), str(value), False


def passwords_are_never_plain_values(m: Merged) -> None:
    """A URL with a password (`mongodb+srv://app:pw@host`) would be written into committed
    Compose files and ConfigMaps: the password belongs in a secret."""
    for path, value, endpoint in _plain_values(m):
        found = URL_PASSWORD.match(value) or (BARE_PASSWORD.match(value) if endpoint else None)
        if found is not None:
            raise m.error(
                path,
                f"this value holds a password (user info `{found['user']}:...@`): it would be written in "
                "plain text into committed Compose files and ConfigMaps",
                "keep only the address here (no `user:password@`); list the password's name under "
                "`secrets:` and set its value in compose/<env>/.env (Kubernetes: the <project>-secrets "
                "Secret): every service reads it by that name, and `databases.<db>.secret_env` passes it "
                "to a database",
            )


def env_settings_are_not_named_like_secrets(m: Merged) -> None:
    """A service's or database's `env` is written as it is into the Compose files and the
    Kubernetes manifests, both committed: a value named like a secret there is a secret in
    plain text (`config` has its own rule: stack.plain_settings_are_not_named_like_secrets)."""
    for kind in ("services", "databases"):
        for name, raw in m.data[kind].items():
            for key in raw.get("env", {}):
                if SECRET_LIKE.search(key):
                    raise m.error(
                        (kind, name, "env", key),
                        f"{key} is named like a secret, but an env value is written in plain text "
                        "into the committed Compose files and Kubernetes manifests",
                        f"list {key} under `secrets:`, give it to {name} ({kind}.{name}."
                        f"{'secrets' if kind == 'services' else 'secret_env'}), and set its value in "
                        "compose/<env>/.env or the Kubernetes Secret; or rename it",
                    )
