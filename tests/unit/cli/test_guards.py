"""The cloud safety rules (tasks/cli/guards.py), through resolving a run on a scratch copy of the
environments: one environment per mutating command, confirmation of a protected one, cloud
names, distinct clusters."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.cli import guards
from tasks.cli.exits import UsageError
from tasks.cli.resolve import resolve as resolving
from tasks.errors import ConfigError
from tasks.families.shared.run import Run
from testing.environments import break_environment, copy_environments


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_environments(tmp_path_factory.mktemp("guards"))


@pytest.fixture
def envs(tmp_path: Path) -> Path:
    return copy_environments(tmp_path)


@pytest.fixture(autouse=True)
def outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)


def resolve(root: Path, *argv: str) -> Run:
    return resolving(list(argv), root)


def usage(root: Path, *argv: str) -> UsageError:
    with pytest.raises(UsageError) as info:
        resolve(root, *argv)
    return info.value


# --------------------------------------------------------------------------- one environment


@pytest.mark.parametrize(
    ("argv", "message", "fix"),
    [
        (
            ("rollback", "env=dev"),
            "`rollback` changes a cloud environment, so it acts on exactly one, named in the task",
            "run `doit rollback:<env>`; cloud environments: dev, prod, staging",
        ),
        (("deploy",), "`deploy` changes a cloud environment", "run `doit deploy:<env>`"),
        (("strace", "deploy"), "`deploy` changes a cloud environment", "run `doit deploy:<env>`"),
        (
            ("push:dev", "deploy:staging"),
            "one run may change one cloud environment; this one names dev, staging",
            "run one command per environment",
        ),
        (
            ("deploy:dev", "env=prod"),
            "env=prod contradicts the environment in the task name (dev)",
            "leave env= out: a cloud task's environment is its name",
        ),
    ],
)
def test_a_mutating_command_names_exactly_one_environment(
    root: Path, argv: tuple[str, ...], message: str, fix: str
) -> None:
    error = usage(root, *argv)
    assert error.message == message or error.message.startswith(message)
    assert (error.fix or "").startswith(fix)


@pytest.mark.parametrize("argv", [("tf_plan:dev", "env=local"), ("kubeconfig:staging", "env=dev")])
def test_a_read_only_cloud_task_refuses_an_env_that_contradicts_its_name(
    root: Path, argv: tuple[str, ...]
) -> None:
    error = usage(root, *argv)
    wanted, named = argv[1].partition("=")[2], argv[0].partition(":")[2]
    assert error.message == f"env={wanted} contradicts the environment in the task name ({named})"
    assert error.fix == "leave env= out: a cloud task's environment is its name"


def test_a_cloud_task_with_its_own_env_repeated_is_accepted(root: Path) -> None:
    assert resolve(root, "tf_plan:dev", "env=dev").env == "dev"


def test_one_cloud_environment_may_be_named_by_several_tasks(root: Path) -> None:
    assert resolve(root, "push:dev", "deploy:dev", "env=dev").env == "dev"
    assert resolve(root, "tf_plan:dev", "smoke:dev").env == "dev"
    assert resolve(root, "tf_plan:dev", "tf_plan:staging").env == "dev"  # read-only: any number


def test_commands_that_run_nothing_need_no_environment(root: Path) -> None:
    assert resolve(root, "help", "deploy").command == "help"
    assert resolve(root, "list", "deploy").command == "list"
    assert resolve(root, "forget", "deploy").command == "forget"


def test_the_cloud_choices_name_broken_environments_too(envs: Path) -> None:
    break_environment(envs, "test")
    assert "cloud environments: dev, prod, staging, test" in (usage(envs, "deploy").fix or "")
    assert guards.cloud_choices(resolve(envs, "compose_up")) == ["dev", "prod", "staging", "test"]


# --------------------------------------------------------------------------- protected


def test_a_protected_environment_needs_its_own_name_confirmed(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = usage(root, "deploy:prod")
    assert refused.message == "prod is a protected environment: `deploy:prod` changes it"
    assert refused.fix == "if you mean it, run `doit deploy:prod confirm=prod` (CI runs need no confirmation)"
    assert resolve(root, "deploy:prod", "confirm=prod").env == "prod"
    wrong = usage(root, "deploy:prod", "confirm=dev")
    assert wrong.message == "confirm=dev does not name the protected environment this run changes (prod)"
    assert wrong.fix == "if you mean it, write `confirm=prod`"
    assert resolve(root, "deploy:dev").env == "dev"  # dev is not protected
    assert resolve(root, "tf_plan:prod").env == "prod"  # read-only: no confirmation
    assert resolve(root, "list", "deploy:prod").command == "list"  # only an executing command
    monkeypatch.setenv("CI", "true")
    assert resolve(root, "deploy:prod").env == "prod"


def test_promoting_into_a_protected_environment_needs_it_confirmed(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = usage(root, "promote", "from=staging", "to=prod")
    assert refused.message == "prod is a protected environment: `promote` changes it"
    assert refused.fix == (
        "if you mean it, run `doit promote from=staging to=prod confirm=prod` (CI runs need no confirmation)"
    )
    assert resolve(root, "promote", "from=staging", "to=prod", "confirm=prod").words == ["promote"]
    assert resolve(root, "promote", "from=dev", "to=staging").words == ["promote"]  # not protected
    wrong = usage(root, "promote", "from=dev", "to=staging", "confirm=prod")
    assert wrong.message == "confirm=prod confirms nothing here: no task named changes prod"
    monkeypatch.setenv("CI", "true")
    assert resolve(root, "promote", "from=staging", "to=prod").words == ["promote"]


def test_the_ci_variable_only_counts_when_true(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "false")
    assert "protected" in usage(root, "deploy:prod").message


# --------------------------------------------------------------------------- cloud names and clusters


def test_a_named_task_on_an_environment_without_cloud_says_which_have_one(root: Path) -> None:
    for word in ("deploy:local", "tf_plan:test"):
        error = usage(root, word)
        env = word.partition(":")[2]
        assert error.message == (
            f"{env} is not a cloud environment (environments/{env}.yaml has no `cloud:` block), "
            f"so there is no `{word}`"
        )
        assert error.fix == "use one of the cloud environments: dev, prod, staging"
    assert resolve(root, "tf_plan:dev").env == "dev"
    assert "not a cloud environment" in usage(root, "help", "deploy:local").message  # any command


def test_a_cloud_task_refuses_a_cluster_another_environment_names(envs: Path) -> None:
    staging = envs / "environments" / "staging.yaml"
    staging.write_text(
        staging.read_text().replace("cluster_name: srvthreds-staging", "cluster_name: srvthreds-dev")
    )
    with pytest.raises(ConfigError, match="srvthreds-dev"):
        resolve(envs, "tf_plan:dev")
    with pytest.raises(ConfigError, match="srvthreds-dev"):
        resolve(envs, "tf_plan")  # every cloud environment
    assert resolve(envs, "tf_plan:prod").env == "prod"  # prod's cluster is its own
    assert resolve(envs, "list").command == "list"  # only an executing command is refused
    assert resolve(envs, "compose_up").env == "local"  # no cloud task: no cluster to check


@pytest.mark.parametrize(
    ("argv", "why"),
    [
        (("compose_up", "confirm=prod"), "no task named changes prod"),
        (("deploy:dev", "confirm=dev"), "dev is not a protected environment"),
        (("tf_plan:prod", "confirm=prod"), "no task named changes prod"),  # read-only
        (("list", "confirm=prod"), "no task named changes prod"),
        (("compose_up", "confirm=lcoal"), "lcoal is not an environment"),
    ],
)
def test_a_confirmation_that_confirms_nothing_is_refused(root: Path, argv: tuple[str, ...], why: str) -> None:
    refused = usage(root, *argv)
    assert refused.message == f"{argv[-1]} confirms nothing here: {why}"
    assert refused.fix == (
        "leave confirm= out: it confirms a task that changes a `protected: true` environment "
        "(`doit deploy:prod confirm=prod`)"
    )


def test_a_confirmation_may_be_shown_with_what_it_confirms(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert resolve(root, "info", "deploy:prod", "confirm=prod").command == "info"
    monkeypatch.setenv("CI", "true")
    assert resolve(root, "deploy:prod", "confirm=prod").env == "prod"  # needless in CI, but right
