"""Load environments/stack.yaml plus one environments/<env>.yaml into a Config.

Three steps, one module each: `read` checks every file alone against the declared
fields (tasks/config/fields.py), so an error points at the file and line that wrote it,
and merges them over the defaults; the rules (tasks/config/rules/) check the merged
result; the build (tasks/config/build.py) turns it into the typed Config.
"""

from __future__ import annotations

import difflib
import functools
import re
from pathlib import Path
from typing import Any

from tasks import defaults
from tasks.config import build, disk, rules, saved, yamlpos
from tasks.config import schema as s
from tasks.config.fields import DEFAULTS, TOP
from tasks.config.merged import Merged
from tasks.config.yamlpos import load_yaml
from tasks.errors import ConfigError, StackError
from tasks.model import STACK, Config
from tasks.store import paths

ENV_DIR = "environments"
STACK_FILE = "stack.yaml"
# A DNS-1123 label: the environment name is a label value and the root's `environment`.
MAX_ENV_NAME = 63


def environments(root: Path) -> list[str]:
    """Every environment name: one file per environment beside stack.yaml. Hidden files
    are editors' lock and backup files (Emacs's `.#local.yaml`), never environments."""
    return [Path(name).stem for name in disk.names(root / ENV_DIR, "*.yaml") if name != STACK_FILE]


def env_file(name: str, root: Path) -> Path:
    return root / ENV_DIR / f"{name}.yaml"


def check_env_name(name: str, root: Path) -> None:
    known = environments(root)
    if name in known:
        return
    stem = Path(name).stem if name.endswith((".yaml", ".yml")) else name
    if stem in known:  # `env=local.yaml`: the file name instead of the environment's
        raise StackError(
            f"unknown environment {name!r}", fix=f"write env={stem} (the file name without .yaml)"
        )
    stray = root / ENV_DIR / f"{name}.yml"
    if stray.is_file():  # environments are the *.yaml files: say why this one is not one
        raise StackError(
            f"unknown environment {name!r}: {ENV_DIR}/{name}.yml is never read "
            "(environment files end in .yaml)",
            fix=f"rename it: git mv {ENV_DIR}/{name}.yml {ENV_DIR}/{name}.yaml",
        )
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    if not name or not s.DNS1123.match(name):
        how = "use lowercase letters, digits and '-' (an environment is environments/<name>.yaml)"
    elif known:
        model = _copy_model(root, known)
        how = f"To add one, copy a small file: cp {ENV_DIR}/{model}.yaml {ENV_DIR}/{name}.yaml"
    else:
        how = f"create {ENV_DIR}/{name}.yaml (see README, Configuration reference)"
    raise StackError(
        f"unknown environment {name!r}; known environments: {', '.join(known) or '(none)'}", fix=hint + how
    )


def _copy_model(root: Path, known: list[str]) -> str:
    """The environment to suggest copying: the first one without a `cloud:` block. A copied cloud
    environment names the original's cluster, which the cloud guards then refuse."""
    local = [env for env in known if "cloud" not in _raw(root / ENV_DIR / f"{env}.yaml")]
    return (local or known)[0]


def _raw(path: Path) -> dict[str, Any]:
    """A file's top-level mapping as written, or {} when it cannot be read (its load reports why)."""
    try:
        data = load_yaml(path, path.name).data
    except StackError:
        return {}
    return data if isinstance(data, dict) else {}


def default_env(root: Path, role: str = defaults.LOCAL) -> str:
    """`_default_env`, kept between runs (tasks/config/saved.py) under the contents of every
    environment file: at 300 services, parsing stack.yaml for it took a quarter of `doit list`."""
    files = [root / ENV_DIR / STACK_FILE] + [env_file(env, root) for env in environments(root)]
    key = saved.key(files, "default_env", role, str(root.resolve()))
    name = f"_default-{role}"
    kept = saved.recall(root, name, key)
    if isinstance(kept, str):
        return kept
    chosen = _default_env(root, role)
    saved.keep(root, name, key, [], chosen)
    return chosen


def _default_env(root: Path, role: str) -> str:
    """The environment of a run that names none (`env=`, `deploy:dev`), for a family's role
    (tasks/defaults.py). LOCAL: `default_env:` of stack.yaml, else the first environment whose
    runtime is compose, else the first one. MINIKUBE: `minikube`, else the first Kubernetes
    environment without a cloud block. Read from the files as written, so a broken file never
    stops the choice (loading the chosen environment reports it)."""
    known = environments(root)
    stack = _raw(root / ENV_DIR / STACK_FILE)
    if role == defaults.MINIKUBE:
        if defaults.MINIKUBE in known:
            return defaults.MINIKUBE
        runtime, fallback = "kubernetes", role
    else:
        if isinstance(stack.get("default_env"), str):
            return str(stack["default_env"])
        runtime, fallback = "compose", known[0] if known else role
    for env in known:
        raw = _raw(env_file(env, root))
        # A cloud environment is deployed with `deploy:<env>`, never a family's default.
        if _runtime(raw, stack) == runtime and not raw.get("cloud"):
            return env
    return fallback


def _runtime(raw: dict[str, Any], stack: dict[str, Any]) -> Any:
    return raw.get("runtime", stack.get("runtime", DEFAULTS["runtime"]))


def load(env: str, root: Path) -> Config:
    """The merged, checked configuration of one environment."""
    return _load(env, root)


def load_stack(root: Path) -> Config:
    """The shared stack alone (its `env` is STACK): what k8s/base is rendered from."""
    return _load(None, root)


def _load(env: str | None, root: Path) -> Config:
    files = [root / ENV_DIR / STACK_FILE] + ([env_file(env, root)] if env else [])
    # Task creators ask for the same environments many times per run; a file's
    # identity (mtime, size) keys the cache so an edit is always seen.
    key = tuple((str(f), *_stat(f)) for f in files)
    return _load_cached(env, root, key)


def _stat(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (0, -1)
    return (st.st_mtime_ns, st.st_size)


def forget() -> None:
    """Drop every loaded configuration: the next load reads and checks the files again. Each run
    starts with this (tasks/cli/start.py): the cache is keyed on the environment files, but rules
    also read the disk (a stray environments/*.yml, build inputs that became links or FIFOs), and
    one process may run doit more than once."""
    _load_cached.cache_clear()
    yamlpos.forget()


@functools.lru_cache(maxsize=64)
def _load_cached(env: str | None, root: Path, key: tuple[tuple[str, int, int], ...]) -> Config:
    # Then between runs: the files' contents, the tool's code and every disk answer the rules got.
    if env is not None and not s.DNS1123.match(env):  # `../x`: no file name; _read refuses it
        return _checked(env, root)[0]
    files = [Path(f) for f, _, _ in key]
    memo_key = saved.key(files, "config", env, str(root.resolve()), paths.is_tool(root))
    name = "_stack" if env is None else env  # `_` is in no environment's name
    kept = saved.recall(root, name, memo_key)
    if isinstance(kept, Config):
        return kept
    cfg, probes = _checked(env, root)
    saved.keep(root, name, memo_key, probes, cfg)
    return cfg


def _checked(env: str | None, root: Path) -> tuple[Config, list[disk.Probe]]:
    with disk.recording() as probes:
        merged = _read(env, root)
        rules.check(merged)
        cfg = build.config(merged)
    return cfg, probes


def read(env: str, root: Path) -> Merged:
    """One environment's files, each checked alone, merged over the defaults: what the
    rules check (tasks/config/rules/) and the build reads."""
    return _read(env, root)


def read_stack(root: Path) -> Merged:
    """The stack file alone, checked and merged over the defaults."""
    return _read(None, root)


# stack.yaml's path -> its parse that passed the field checks. load_yaml returns one object per
# edit of a file, so every environment of a run merges the stack checked once, not once each.
_CHECKED: dict[Path, Any] = {}


def _checked_stack(path: Path) -> Any:
    stack = load_yaml(path, f"{ENV_DIR}/{STACK_FILE}")
    if _CHECKED.get(path) is not stack:
        s.validate(stack, TOP, enforce_required=True)
        _CHECKED[path] = stack
    return stack


def _read(env: str | None, root: Path) -> Merged:
    # None, not STACK: `env=stack` is an unknown environment, never the stack alone.
    stack_path = root / ENV_DIR / STACK_FILE
    stack = _checked_stack(stack_path)
    docs = [stack]
    sources = [stack_path]
    if env is not None:
        check_env_name(env, root)
        if s.DNS1123.match(env) and len(env) > MAX_ENV_NAME:
            raise ConfigError(
                f"{ENV_DIR}/{env}.yaml",
                "(file name)",
                None,
                f"the environment name is {len(env)} characters; it lands in file names, Kubernetes "
                f"labels and Terraform (`environment`), which take at most {MAX_ENV_NAME}",
                fix=f"rename the file to a name of at most {MAX_ENV_NAME} characters",
            )
        if not s.DNS1123.match(env):
            raise ConfigError(
                f"{ENV_DIR}/{env}.yaml",
                "(file name)",
                None,
                f"environment name {env!r} is not a valid DNS-1123 label",
                fix=f"rename the file to lowercase letters, digits and '-' "
                f"(e.g. {ENV_DIR}/{re.sub('[^a-z0-9-]+', '-', env.lower()).strip('-') or 'myenv'}.yaml)",
            )
        over = load_yaml(env_file(env, root), f"{ENV_DIR}/{env}.yaml")
        s.validate(over, TOP, enforce_required=False)
        docs.append(over)
        sources.append(env_file(env, root))
    data: dict[str, Any] = {}
    for layer in [DEFAULTS] + [d.data for d in docs]:
        data = merge(data, layer)
    return Merged(
        STACK if env is None else env, data, tuple(docs), tuple(sources), root, tuple(environments(root))
    )


def merge(base: Any, over: Any) -> Any:
    """Mappings merge key by key; anything else (lists too) is replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = merge(base.get(key), value)
        return out
    return over
