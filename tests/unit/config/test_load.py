"""Loading (tasks/config/load.py): which environments exist, each file checked alone, the
merge, the cache, and the whole load of the shipped environments."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest

from tasks import defaults
from tasks.config import load as config
from tasks.errors import ConfigError, StackError
from tasks.model import STACK
from tasks.store import state
from testing.configs import (
    KUBE,
    LOCAL,
    cloud_env,
    edit,
    error,
    line_of,
    load,
    read,
    refused,
    small_project,
    stack,
    write,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_project(tmp_path)


# --- the shipped environments ----------------------------------------------------------------


def test_every_shipped_environment_loads(project: Path) -> None:
    names = config.environments(project)
    assert names == ["dev", "local", "minikube", "offline", "prod", "staging", "test"]
    for name in names:
        assert config.load(name, project).env == name
    assert config.load_stack(project).env == STACK


def test_environment_files_only_hold_differences(project: Path) -> None:
    prod = config.load("prod", project)
    assert prod.services["engine"].replicas == 3
    assert prod.services["engine"].command == config.load_stack(project).services["engine"].command


def test_minikube_points_databases_at_the_host(project: Path) -> None:
    cfg = config.load("minikube", project)
    assert cfg.databases["mongodb"].endpoint == "host.minikube.internal:27017"
    assert cfg.databases["redis"].endpoint == "host.minikube.internal:6379"
    assert cfg.databases["rabbitmq"].endpoint == "rabbitmq:5672"


def test_a_mistake_in_a_shipped_file_names_its_line(project: Path) -> None:
    edit(
        project, "prod.yaml", "engine: {autoscale: {min: 3, max: 9, cpu: 70}}", 'engine: {replicas: "three"}'
    )
    assert str(error(project, "prod")) == (
        f"==> File environments/prod.yaml, line {line_of(project, 'prod.yaml', 'three')}\n"
        "==> At services.engine.replicas\n"
        "=====> expected int, got str ('three')\n"
        "Fix: write a whole number (e.g. 3)"
    )


def test_malformed_yaml_is_reported_through_load(project: Path) -> None:
    (project / "environments" / "dev.yaml").write_text("runtime: kubernetes\nplacement: [unclosed\n")
    err = error(project, "dev")
    assert (err.file, err.line) == ("environments/dev.yaml", 3)
    assert "malformed YAML" in str(err)


# --- environment names -----------------------------------------------------------------------


def test_environments_are_the_visible_yaml_files_beside_the_stack(root: Path) -> None:
    for name in ("b.yaml", "a.yaml", ".#a.yaml", "notes.txt"):
        (root / "environments" / name).write_text("runtime: compose\n")
    assert config.environments(root) == ["a", "b"]
    assert config.env_file("a", root) == root / "environments" / "a.yaml"


def test_unknown_environment_names(root: Path) -> None:
    write(root, "local.yaml", LOCAL)

    def message(name: str) -> str:
        with pytest.raises(StackError) as info:
            config.check_env_name(name, root)
        assert not isinstance(info.value, ConfigError)
        return str(info.value)

    config.check_env_name("local", root)
    assert (
        message("local.yaml")
        == "unknown environment 'local.yaml'\nFix: write env=local (the file name without .yaml)"
    )
    assert message("local.yml").endswith("write env=local (the file name without .yaml)")
    assert message("locl") == (
        "unknown environment 'locl'; known environments: local\n"
        "Fix: did you mean 'local'? To add one, copy a small file: "
        "cp environments/local.yaml environments/locl.yaml"
    )
    assert message("qa") == (
        "unknown environment 'qa'; known environments: local\n"
        "Fix: To add one, copy a small file: cp environments/local.yaml environments/qa.yaml"
    )
    how = "use lowercase letters, digits and '-' (an environment is environments/<name>.yaml)"
    assert message("").endswith(f"Fix: {how}")
    assert message("Q_A").endswith(f"Fix: {how}")
    (root / "environments" / "local.yaml").unlink()
    assert message("qa") == (
        "unknown environment 'qa'; known environments: (none)\n"
        "Fix: create environments/qa.yaml (see README, Configuration reference)"
    )


def test_an_unknown_environment_is_refused_by_load_with_the_closest_name(project: Path) -> None:
    with pytest.raises(StackError) as info:
        config.load("prd", project)
    assert "unknown environment 'prd'" in str(info.value)
    assert "did you mean 'prod'?" in str(info.value)


def test_the_stack_file_is_not_an_environment(root: Path) -> None:
    """`env=stack` names no environment: the stack alone is asked for with load_stack."""
    with pytest.raises(StackError, match="unknown environment 'stack'"):
        config.load(STACK, root)
    assert config.load_stack(root).env == STACK


@pytest.mark.parametrize("name, example", [("Dev_1", "dev-1"), ("___", "myenv")])
def test_an_environment_file_name_must_be_a_dns_label(root: Path, name: str, example: str) -> None:
    write(root, f"{name}.yaml", LOCAL)
    with pytest.raises(ConfigError) as info:
        config.load(name, root)
    err = info.value
    assert (err.file, err.keypath, err.line) == (f"environments/{name}.yaml", "(file name)", None)
    assert err.problem == f"environment name {name!r} is not a valid DNS-1123 label"
    assert err.fix == (
        f"rename the file to lowercase letters, digits and '-' (e.g. environments/{example}.yaml)"
    )


def test_an_environment_name_fits_every_place_it_lands(root: Path) -> None:
    name = "e" * 64
    write(root, f"{name}.yaml", LOCAL)
    with pytest.raises(ConfigError) as info:
        config.load(name, root)
    err = info.value
    assert (err.file, err.keypath) == (f"environments/{name}.yaml", "(file name)")
    assert err.problem == (
        "the environment name is 64 characters; it lands in file names, Kubernetes labels and "
        "Terraform (`environment`), which take at most 63"
    )
    write(root, f"{'e' * 63}.yaml", LOCAL)
    assert config.load("e" * 63, root).env == "e" * 63


def test_an_environment_written_as_yml_is_named_with_the_rename(root: Path) -> None:
    write(root, "qa.yml", LOCAL)
    with pytest.raises(StackError) as info:
        config.check_env_name("qa", root)
    assert info.value.message == (
        "unknown environment 'qa': environments/qa.yml is never read (environment files end in .yaml)"
    )
    assert info.value.fix == "rename it: git mv environments/qa.yml environments/qa.yaml"


# --- reading and merging ---------------------------------------------------------------------


def test_load_refuses_what_a_rule_refuses(root: Path) -> None:
    data = stack()
    data["services"]["web"]["uses"] = ["pg", "pgx"]
    err = refused(root, data)
    assert (err.file, err.keypath, err.problem) == (
        "environments/stack.yaml",
        "services.web.uses[1]",
        "'pgx' is neither a database nor a service",
    )
    with pytest.raises(ConfigError, match="'pgx'"):
        config.load_stack(root)


def test_the_stack_alone_must_name_what_defaults_would_fill(root: Path) -> None:
    data = stack()
    del data["images"]
    for svc in data["services"].values():
        svc["build"] = {"context": "app"}
    err = refused(root, data)
    assert (err.file, err.keypath) == ("environments/stack.yaml", "")
    assert err.problem == "missing required key 'images'"


def test_an_environment_file_need_not_repeat_what_the_stack_requires(root: Path) -> None:
    merged = read(root, None, {**LOCAL, "services": {"web": {"replicas": 1}}})
    assert merged.env == "test" and merged.data["services"]["web"]["command"] == ["serve"]
    assert [doc.file for doc in merged.docs] == ["environments/stack.yaml", "environments/test.yaml"]
    assert merged.sources == (root / "environments/stack.yaml", root / "environments/test.yaml")
    alone = config.read_stack(root)
    assert alone.env == STACK and alone.sources == (root / "environments/stack.yaml",)


def test_the_defaults_fill_what_no_file_says(root: Path) -> None:
    data = read(root).data
    assert data["runtime"] == "compose" and data["kubernetes_version"] == "1.33.0"
    assert data["images"]["prefix"] == "acme" and data["images"]["uid"] == 10001  # merged key by key
    assert data["timeouts"] == {"rollout": 180, "healthy": 120}


def test_environment_files_merge_mappings_and_replace_lists() -> None:
    assert config.merge({"a": {"x": 1, "y": [1, 2]}, "b": 1}, {"a": {"y": [3]}, "c": 2}) == {
        "a": {"x": 1, "y": [3]},
        "b": 1,
        "c": 2,
    }
    assert config.merge({"a": {"x": 1}}, {"a": 5}) == {"a": 5}
    assert config.merge(None, {"a": 1}) == {"a": 1}


def test_an_environment_file_changes_a_service_key_by_key(root: Path) -> None:
    cfg = load(root, None, {**LOCAL, "services": {"web": {"command": ["run", "fast"], "env": {"B": "2"}}}})
    web = cfg.services["web"]
    assert web.command == ("run", "fast") and web.env == {"B": "2"}
    assert web.health is not None and (web.health.port, web.health.path) == (8080, "/healthz")


def test_an_edited_file_is_read_again(root: Path) -> None:
    assert load(root, None, LOCAL).services["web"].replicas == 1
    write(root, "test.yaml", {**LOCAL, "services": {"web": {"replicas": 1, "env": {"A": "long enough"}}}})
    assert config.load("test", root).services["web"].env == {"A": "long enough"}


def test_a_loaded_environment_is_kept_until_its_files_change(root: Path) -> None:
    first = load(root, None, LOCAL)
    assert config.load("test", root) is first
    write(root, "test.yaml", {**LOCAL, "config": {"A": "x"}})
    assert config.load("test", root) is not first


def test_a_forgotten_load_is_checked_again_against_the_disk(root: Path) -> None:
    first = load(root, None, LOCAL)
    write(root, "qa.yml", LOCAL)  # no environment file changed: the cache still answers
    assert config.load("test", root) is first
    config.forget()
    with pytest.raises(ConfigError) as info:
        config.load("test", root)
    assert (info.value.file, info.value.keypath) == ("environments/qa.yml", "(file name)")


# --- kept between runs (.build/memo/) --------------------------------------------------------


def _unparsable(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, a load that parses a YAML file fails: what loads came from the saved value."""

    def refuse(path: Path, display: str) -> None:
        raise AssertionError(f"{display} was parsed again")

    monkeypatch.setattr(config, "load_yaml", refuse)


def test_a_new_run_reads_the_saved_configuration_instead_of_the_files(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load(root, None, LOCAL)
    stack_alone = config.load_stack(root)
    config.forget()  # as a new run starts
    _unparsable(monkeypatch)
    assert config.load("test", root) == first and config.load_stack(root) == stack_alone


def test_an_edit_of_the_same_size_in_the_same_tick_is_seen_by_the_next_run(root: Path) -> None:
    write(root, "test.yaml", {**LOCAL, "config": {"A": "1"}})
    path = root / "environments" / "test.yaml"
    stamp = path.stat()
    assert config.load("test", root).config == {"A": "1"}
    path.write_text(path.read_text().replace("'1'", "'2'"))
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    config.forget()
    assert config.load("test", root).config == {"A": "2"}


def test_a_saved_configuration_is_refused_once_the_disk_says_otherwise(root: Path) -> None:
    """Every disk fact the rules checked is asked again: a removed build context, a stray file."""
    load(root, None, LOCAL)
    shutil.rmtree(root / "app")
    config.forget()
    with pytest.raises(ConfigError) as info:
        config.load("test", root)
    assert "app is not a folder in the project" in info.value.problem
    (root / "app").mkdir()
    (root / "app" / "Dockerfile").write_text("FROM scratch\n")
    config.forget()
    assert config.load("test", root).env == "test"
    write(root, "qa.yml", LOCAL)
    config.forget()
    with pytest.raises(ConfigError) as info:
        config.load("test", root)
    assert info.value.file == "environments/qa.yml"


def test_a_refused_configuration_is_not_saved(root: Path) -> None:
    write(root, "qa.yml", LOCAL)
    with pytest.raises(ConfigError):
        load(root, None, LOCAL)
    assert not (root / state.memo("test")).exists()


def test_a_torn_or_unwritable_cache_only_costs_a_load(root: Path) -> None:
    first = load(root, None, LOCAL)
    (root / state.memo("test")).write_bytes(b"torn")
    config.forget()
    assert config.load("test", root) == first
    shutil.rmtree(root / ".build")
    (root / ".build").write_text("a file where the folder should be")
    config.forget()
    assert config.load("test", root) == first


def test_the_default_environment_is_saved_with_the_files_it_was_chosen_from(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(root, "laptop.yaml", LOCAL)
    assert config.default_env(root) == "laptop"
    write(root, "a.yaml", LOCAL)  # a new file: chosen again
    assert config.default_env(root) == "a"
    _unparsable(monkeypatch)
    assert config.default_env(root) == "a"


def test_a_name_that_is_no_environment_never_opens_a_saved_file(root: Path) -> None:
    """`env=../../x` names a file outside .build/memo/: it is refused before any is unpickled."""
    marker = root / "unpickled"
    planted = root / ".build" / "x.pickle"  # where .build/memo/../x.pickle leads
    (root / ".build" / "memo").mkdir(parents=True)
    planted.write_bytes(pickle.dumps(_Touch(marker)))
    with pytest.raises(StackError):
        config.load("../x", root)
    assert not marker.exists()


class _Touch:
    """A pickle that, when loaded, creates a file: proof that it was loaded."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[Path]]:
        return (Path.touch, (self.path,))


# --- the default environment -----------------------------------------------------------------


def test_the_default_environment_is_the_first_compose_one_without_a_local(root: Path) -> None:
    write(root, "cloud.yaml", cloud_env())
    write(root, "kind.yaml", KUBE)
    write(root, "laptop.yaml", LOCAL)
    write(root, "zz.yaml", LOCAL)
    assert config.default_env(root) == "laptop"
    # The Minikube family's: a Kubernetes environment without a cloud block.
    assert config.default_env(root, defaults.MINIKUBE) == "kind"


def test_the_stack_names_the_default_environment(root: Path) -> None:
    write(root, "laptop.yaml", LOCAL)
    write(root, "zz.yaml", LOCAL)
    data = stack()
    data["default_env"] = "zz"
    write(root, "stack.yaml", data)
    assert config.default_env(root) == "zz"
    write(root, "minikube.yaml", KUBE)
    assert config.default_env(root, defaults.MINIKUBE) == "minikube"


def test_a_broken_file_does_not_stop_the_choice(root: Path) -> None:
    write(root, "a.yaml", KUBE)
    write(root, "b.yaml", LOCAL)
    assert config.default_env(root) == "b"
    # Read as written: a broken file counts as compose (the default runtime), so the run
    # works on it and loading it reports what is wrong.
    (root / "environments" / "a.yaml").write_text("runtime: [\n")
    assert config.default_env(root) == "a"
    (root / "environments" / "stack.yaml").write_text("project: [\n")
    assert config.default_env(root) == "a"


def test_without_a_compose_environment_the_first_is_the_default(root: Path) -> None:
    assert config.default_env(root) == defaults.LOCAL  # no environment at all: the name to create
    assert config.default_env(root, defaults.MINIKUBE) == defaults.MINIKUBE
    write(root, "kind.yaml", KUBE)
    assert config.default_env(root) == "kind"
