"""Rules about variables two places would set: a service's environment is the `config`, every
database's address (its `env_var`), the service's own `env` and the secrets, merged into one
mapping, where a later one silently replaces an earlier one. Each collision is refused here,
naming both places.

(A secret named like a variable the tool sets itself is refused with the secrets' rules.)
"""

from __future__ import annotations

from tasks.config.merged import Merged
from tasks.config.yamlpos import KeyPath, dotted


def _addresses(m: Merged) -> dict[str, KeyPath]:
    """env_var -> where it is declared, first one wins (the next rule refuses the second)."""
    out: dict[str, KeyPath] = {}
    for name, raw in m.data["databases"].items():
        out.setdefault(raw["env_var"], ("databases", name, "env_var"))
    return out


def database_env_vars_are_distinct(m: Merged) -> None:
    seen: dict[str, str] = {}
    for name, raw in m.data["databases"].items():
        var = raw["env_var"]
        if var in seen:
            raise m.error(
                ("databases", name, "env_var"),
                f"{var} is also databases.{seen[var]}.env_var: services would get one address for both",
                f"give {name} its own env_var (e.g. {name.upper().replace('-', '_')}_HOST)",
            )
        seen[var] = name


def config_keys_are_not_database_addresses(m: Merged) -> None:
    addresses = _addresses(m)
    for key in m.data.get("config", {}):
        if key in addresses:
            raise m.error(
                ("config", key),
                f"{key} is {dotted(addresses[key])}: the database's address would silently "
                "replace this value",
                f"rename the config key (the address comes from {addresses[key][1]}'s placement)",
            )


def service_env_is_not_a_database_address(m: Merged) -> None:
    addresses = _addresses(m)
    for name, raw in m.data["services"].items():
        for key in raw.get("env", {}):
            if key in addresses:
                raise m.error(
                    ("services", name, "env", key),
                    f"{key} is {dotted(addresses[key])}: this would replace the address {name} gets",
                    f"rename the variable (the address comes from {addresses[key][1]}'s placement)",
                )


def database_addresses_are_not_secrets(m: Merged) -> None:
    secrets = set(m.data.get("secrets", []))
    for name, raw in m.data["databases"].items():
        if raw["env_var"] in secrets:
            raise m.error(
                ("databases", name, "env_var"),
                f"{raw['env_var']} is also a secret (secrets:): the address and the secret would both set it",
                f"give {name} another env_var, or rename the secret",
            )


def a_database_variable_is_plain_or_secret(m: Merged) -> None:
    """A database's container gets `env` and `secret_env`: one name in both is set twice."""
    for name, raw in m.data["databases"].items():
        for key in raw.get("secret_env", {}):
            if key in raw.get("env", {}):
                raise m.error(
                    ("databases", name, "secret_env", key),
                    f"{key} is also in databases.{name}.env: the container would get it twice",
                    "keep it in one of the two (secret_env for a password)",
                )
