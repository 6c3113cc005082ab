"""Rules across environment files: two cloud environments never share one cluster, and one
environment per AWS account creates what the account shares.

Each environment is valid alone, so the rules of one environment (tasks/config/rules/) cannot see this. The
usual way in is copying an environment (`cp environments/dev.yaml environments/qa.yaml`,
as the unknown-environment hint suggests) and forgetting `cluster_name`: every cloud
task of the copy would then act on the original's cluster (the kubectl context is the
cluster name), so `deploy:qa` would deploy over dev.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tasks.config import load as config
from tasks.config import yamlpos
from tasks.errors import ConfigError, StackError
from tasks.model import Config

KEY = ("cloud", "cluster_name")


def check_distinct_clusters(
    root: Path, wanted: Iterable[str], loaded: dict[str, Config | StackError]
) -> None:
    """Raise a ConfigError, at the wanted environment's `cloud.cluster_name`, when another
    environment names the same cluster in the same region. Broken files are skipped: their
    own error is reported where they are needed."""
    seen: dict[tuple[str, str], str] = {}
    for env, got in loaded.items():
        if isinstance(got, Config) and got.cloud is not None:
            seen.setdefault((got.cloud.region, got.cloud.cluster_name), env)
    for env in wanted:
        mine = loaded.get(env)
        if not isinstance(mine, Config) or mine.cloud is None:
            continue
        key = (mine.cloud.region, mine.cloud.cluster_name)
        owner = seen[key]
        others = [
            e
            for e, c in loaded.items()
            if e != env
            and isinstance(c, Config)
            and c.cloud is not None
            and (c.cloud.region, c.cloud.cluster_name) == key
        ]
        if not others:
            continue
        other = owner if owner != env else others[0]
        raise _at(
            root,
            env,
            KEY,
            f"cluster {key[1]} ({key[0]}) is also environment {other}'s "
            f"({config.ENV_DIR}/{other}.yaml): its cloud tasks would change that cluster",
            fix=f"give {env} its own cluster_name (and state bucket) under cloud:",
        )


SHARED = ("cloud", "create_shared")


def check_shared_created_once(root: Path, loaded: dict[str, Config | StackError]) -> None:
    """Raise a ConfigError, at the second environment's `cloud.create_shared`, when two
    environments of one AWS account (the registry's account) both create what the account
    shares: the second `tf_apply` would fail half way, its ECR repositories and GitHub's OIDC
    provider already existing. Broken files are skipped (their own error is reported)."""
    creators: dict[str, str] = {}
    for env in sorted(loaded):
        got = loaded[env]
        if not isinstance(got, Config) or got.cloud is None or not got.cloud.create_shared:
            continue
        account = got.cloud.registry.split(".")[0]
        if account not in creators:
            creators[account] = env
            continue
        first = creators[account]
        raise _at(
            root,
            env,
            SHARED,
            f"environment {first} ({config.ENV_DIR}/{first}.yaml) already creates what AWS account "
            f"{account} shares (its ECR repositories, GitHub's OIDC provider): the second tf_apply "
            "would fail, finding them made",
            fix=f"remove `create_shared: true` here (one environment per account creates them; "
            f"{env} uses them)",
        )


def _at(root: Path, env: str, key: tuple[str, ...], problem: str, *, fix: str) -> ConfigError:
    """An error at `key` of environments/<env>.yaml, with its line."""
    display = f"{config.ENV_DIR}/{env}.yaml"
    line = yamlpos.load_yaml(config.env_file(env, root), display).line(key)
    return ConfigError(display, yamlpos.dotted(key), line, problem, fix=fix)
