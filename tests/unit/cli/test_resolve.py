"""Resolving the run (tasks/cli/resolve.py): tasks, environment, options and the files they read,
called directly on a scratch copy of the environments."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tasks.cli import resolve as resolving
from tasks.cli.exits import Several, UsageError
from tasks.errors import ConfigError, StackError
from tasks.families.shared.run import Run
from testing.environments import break_environment, copy_environments
from testing.project import REPO


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared by the tests that change nothing."""
    return copy_environments(tmp_path_factory.mktemp("resolve"))


@pytest.fixture
def envs(tmp_path: Path) -> Path:
    return copy_environments(tmp_path)


def resolve(root: Path, *argv: str) -> Run:
    return resolving.resolve(list(argv), root)


def usage(root: Path, *argv: str) -> UsageError:
    with pytest.raises(UsageError) as info:
        resolve(root, *argv)
    return info.value


# --------------------------------------------------------------------------- the environment


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        ((), "local"),
        (("compose_up",), "local"),
        (("minikube_up",), "minikube"),
        (("deploy:staging",), "staging"),
        (("tf_plan:dev",), "dev"),
        (("compose_up", "env=test"), "test"),
    ],
)
def test_one_rule_decides_the_environment(root: Path, argv: tuple[str, ...], env: str) -> None:
    assert resolve(root, *argv).env == env


def test_the_environment_comes_from_env_the_task_name_or_the_family(root: Path) -> None:
    given = resolve(root, "minikube_up", "env=test")
    assert (given.env, given.inferred) == ("test", False)
    assert given.env_for("compose_up") == "test"
    named = resolve(root, "tf_plan:staging", "compose_up")
    assert (named.env, named.inferred) == ("staging", True)
    assert named.env_for("compose_up") == "staging"
    family = resolve(root, "compose_up", "minikube_status")
    assert (family.env, family.inferred) == ("minikube", True)
    plain = resolve(root, "compose_up")
    assert (plain.env, plain.inferred) == ("local", False)
    assert plain.env_for("minikube_up") == "minikube" and plain.env_for("compose_up") == "local"


def test_a_minikube_run_uses_its_environment_for_the_host_databases(root: Path) -> None:
    resolved = resolve(root, "minikube_up")
    assert resolved.env_for("compose_up_dbs") == "minikube"
    listing = resolve(root, "list")
    assert listing.env_for("compose_up") == "local" and listing.env_for("minikube_up") == "minikube"


def test_without_a_local_environment_the_project_default_is_used(envs: Path) -> None:
    """The stack's `default_env`, else the first Compose environment; Minikube's family: a
    Kubernetes environment without a cloud block. Nothing is named `local` or `minikube` here."""
    folder = envs / "environments"
    (folder / "local.yaml").rename(folder / "laptop.yaml")
    (folder / "minikube.yaml").rename(folder / "kind.yaml")
    stack = folder / "stack.yaml"
    stack.write_text(stack.read_text().replace("default_env: local\n", ""))
    plain = resolve(envs, "compose_up")
    assert (plain.env, plain.env_for("minikube_up")) == ("laptop", "kind")
    assert resolve(envs, "minikube_up").env == "kind"
    assert resolve(envs, "list").env == "laptop"
    stack.write_text(stack.read_text() + "default_env: offline\n")
    assert resolve(envs, "compose_up").env == "offline"


def test_an_alias_counts_as_the_task_it_names(root: Path) -> None:
    """The demo declares the old CLI's words (environments/stack.yaml)."""
    old = resolve(root, "k8s_minikube")
    assert (old.env, old.inferred, old.words) == ("minikube", True, ["k8s_minikube"])
    assert resolve(root, "s_a_dbs", "env=offline").env == "offline"
    assert "did you mean 'bootstrap'?" in (usage(root, "bootstrp").fix or "")


def test_an_alias_that_hides_a_task_stops_every_command(envs: Path) -> None:
    stack = envs / "environments" / "stack.yaml"
    stack.write_text(stack.read_text().replace("  bootstrap: compose_jobs", "  render: compose_jobs"))
    for argv in (["list"], ["compose_up"]):
        with pytest.raises(ConfigError) as info:
            resolve(envs, *argv)
        assert (info.value.keypath, info.value.problem) == (
            "aliases.render",
            "alias render would hide the task render",
        )


@pytest.mark.parametrize(
    ("value", "fix"),
    [
        ("local.yaml", "write env=local (the file name without .yaml)"),
        ("", "use lowercase letters, digits and '-'"),
        ("Bad_Name", "use lowercase letters, digits and '-'"),
        # dev, first by name, has a `cloud:` block: a copy would name its cluster
        ("qa", "To add one, copy a small file: cp environments/local.yaml environments/qa.yaml"),
        ("prd", "did you mean 'prod'?"),
    ],
)
def test_unknown_environment_fixes_fit_what_was_typed(root: Path, value: str, fix: str) -> None:
    assert fix in (usage(root, "compose_up", f"env={value}").fix or "")


# --------------------------------------------------------------------------- words


@pytest.mark.parametrize(
    ("argv", "message", "fix"),
    [
        (
            ["compse_up"],
            "unknown task 'compse_up'",
            "did you mean 'compose_up'? `doit list` shows every task",
        ),
        (["qqqq"], "unknown task 'qqqq'", "`doit list` shows every task"),
        (["lsit"], "unknown task 'lsit'", "did you mean 'list'? "),  # doit's commands are offered too
        (
            ["compose_down", "wpie=1"],
            "unknown option wpie=1",
            "did you mean 'wipe'? known options: confirm, env,",
        ),
        (
            ["compose_down", "wipe=maybe"],
            "wipe=maybe is not a valid value for wipe",
            "use one of 1, true or 0, false",
        ),
        (["minikube_logs", "tail=lots"], "tail=lots is not a valid value for tail", "use a whole number"),
        (
            ["deploy:dv"],
            "unknown environment 'dv' in 'deploy:dv'",
            "did you mean 'dev'? environments: dev, local,",
        ),
        (["render", "env=prd"], "unknown environment 'prd'", "did you mean 'prod'?"),
        (
            ["render", "-v", "2"],
            "-v is an option of doit, so it goes before",
            "put it first: `doit -v <value> <tasks>`",
        ),
    ],
)
def test_usage_errors_name_the_word_and_the_fix(root: Path, argv: list[str], message: str, fix: str) -> None:
    error = usage(root, *argv)
    assert error.message.startswith(message) and (error.fix or "").startswith(fix)


def test_every_option_word_is_listed_when_one_is_unknown(root: Path) -> None:
    assert usage(root, "render", "nope=1").fix == (
        "known options: confirm, env, fix, from, host, id, keep, level, out, port, service, tail, to, token, "
        "wipe "
        "(`doit help <task>` lists a task's options)"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["-v", "2", "render"],
        ["--reporter", "json", "render"],
        ["run", "-a", "render"],  # `run` is doit's command, not a task
        ["env=dev", "-a", "render"],  # key=value words are not task names
        ["minikube_logs", "--tail", "5"],  # a task's own option after the task
        ["images_prune", "--keep", "2"],
    ],
)
def test_options_in_the_right_place_pass(root: Path, argv: list[str]) -> None:
    assert resolve(root, *argv).command == "run"


def test_only_a_run_checks_the_option_order(root: Path) -> None:
    assert resolve(root, "list", "render", "-a").command == "list"


@pytest.mark.parametrize(
    ("word", "target"),
    [("k8s/base/namespace.yaml", True), ("dodo.py", True), ("render", False), ("tf_plan:v1.2", False)],
)
def test_a_file_to_build_is_a_target_not_a_task(word: str, target: bool) -> None:
    assert resolving.is_target(word) is target


def test_targets_are_not_checked_as_task_names(root: Path) -> None:
    assert resolve(root, "k8s/base/namespace.yaml").words == ["k8s/base/namespace.yaml"]
    assert resolve(root, "help", "nonsense").command == "help"  # doit says what it knows
    assert resolve(root, "run").words == []


def test_internal_steps_may_be_named(root: Path) -> None:
    assert resolve(root, "_render_k8s").words == ["_render_k8s"]


def test_a_suggestion_needs_a_close_choice() -> None:
    assert resolving.suggest("rendr", ["render", "validate"]) == "did you mean 'render'? "
    assert resolving.suggest("xyz", ["render", "validate"]) == ""


# --------------------------------------------------------------------------- which files must load


def test_only_the_files_the_tasks_read_must_be_valid(envs: Path) -> None:
    break_environment(envs, "dev")
    assert resolve(envs, "compose_up").env == "local"
    assert resolve(envs, "tf_plan:staging").env == "staging"
    assert resolve(envs, "help").command == "help"  # no task named: nothing to load
    assert resolve(envs, "dumpdb").command == "dumpdb"
    assert resolve(envs, "forget", "compose_up").command == "forget"
    assert resolve(envs, "help", "tf_plan:dev").command == "help"  # a task's help needs no valid file
    for argv in (
        ["tf_plan:dev"],
        ["compose_up", "env=dev"],
        ["tf_plan"],  # a named family without a name: every environment
        ["render"],
        ["list"],
        ["tabcompletion"],
        ["forget"],
        ["clean"],
        ["ignore"],
        ["reset-dep"],
        ["k8s/overlays/dev/kustomization.yaml"],
        ["compose/dev/docker-compose-services.yml"],
    ):
        with pytest.raises(ConfigError) as info:
            resolve(envs, *argv)
        assert "environments/dev.yaml" in info.value.render(), argv


def test_every_broken_file_is_reported_once(envs: Path) -> None:
    break_environment(envs, "dev")
    break_environment(envs, "test")
    with pytest.raises(Several) as info:
        resolve(envs, "list")
    errors = info.value.errors
    assert len(errors) == 2 and "environments/dev.yaml" in errors[0].render()
    assert "environments/test.yaml" in errors[1].render()
    assert info.value.message == "\n".join(e.render() for e in errors)
    stack = envs / "environments" / "stack.yaml"
    original = stack.read_text()
    # Valid alone, wrong in every Compose environment, at the same line of stack.yaml: one report.
    stack.write_text(
        original.replace(
            "replicas: 1\n    ports:\n      - {name: http, port: 3000",
            "replicas: 2\n    ports:\n      - {name: http, port: 3000",
        )
    )
    for env in ("dev", "test"):
        shutil.copy(REPO / "environments" / f"{env}.yaml", envs / "environments" / f"{env}.yaml")
    with pytest.raises(Several) as same:
        resolve(envs, "list")
    files = [e.render().split(",")[0] for e in same.value.errors]
    # Every Compose environment takes replicas from stack.yaml, where the 2 was written (an
    # environment file that sets other keys of services does not own it): one report each, since
    # each names its own fix (the environment file to set replicas in).
    assert files == ["==> File environments/stack.yaml"] * 3
    for error, env in zip(same.value.errors, ("local", "offline", "test"), strict=True):
        assert f"environments/{env}.yaml" in error.render()
    stack.write_text("nonsense_key: 1\n")
    with pytest.raises(ConfigError) as one:  # every environment merges the stack: one report
        resolve(envs, "list")
    assert "environments/stack.yaml" in one.value.render()


def test_a_broken_environment_is_still_an_environment(envs: Path) -> None:
    break_environment(envs, "test")
    resolved = resolve(envs, "compose_up")
    assert "test" in resolved.envs
    with pytest.raises(StackError, match="environments/test.yaml"):
        resolved.config("test")


def test_a_task_of_an_environment_creating_the_shared_resources_meets_the_other_creators(
    envs: Path,
) -> None:
    """dev creates what the account shares; prod claiming it too breaks either one's tf_apply, so
    planning either is refused (every environment read), while staging's plan is not concerned."""
    prod = envs / "environments" / "prod.yaml"
    prod.write_text(
        prod.read_text().replace(
            "  endpoint_private: true\n", "  endpoint_private: true\n  create_shared: true\n"
        )
    )
    for word in ("tf_plan:prod", "tf_plan:dev", "deploy:dev"):
        with pytest.raises(ConfigError) as info:
            resolve(envs, word)
        assert (info.value.file, info.value.keypath, info.value.line) == (
            "environments/prod.yaml",
            "cloud.create_shared",
            29,
        ), word
    assert resolve(envs, "tf_plan:staging").env == "staging"


# --------------------------------------------------------------------------- options


def test_an_option_has_its_default_or_the_given_value(root: Path) -> None:
    assert resolve(root, "minikube_logs").params("minikube_logs")[0]["default"] == 50
    assert resolve(root, "minikube_logs", "tail=7").params("minikube_logs")[0]["default"] == 7


@pytest.mark.parametrize(
    ("argv", "message", "fix"),
    [
        (("dev", "host=0.0.0.0"), "no task of this run takes host= (dev)", "host= is an option of ui"),
        (
            ("compose_up", "wipe=1"),
            "no task of this run takes wipe= (compose_up)",
            "wipe= is an option of compose_down",
        ),
        (
            ("ui", "service=engine"),
            "no task of this run takes service= (ui)",
            "service= is an option of compose_logs, minikube_logs, port_forward, restart",
        ),
    ],
)
def test_an_option_no_task_of_the_run_takes_is_refused(
    root: Path, argv: tuple[str, ...], message: str, fix: str
) -> None:
    error = usage(root, *argv)
    assert error.message == message and (error.fix or "").startswith(fix)


def test_an_option_taken_by_one_task_of_the_run_is_accepted(root: Path) -> None:
    assert resolve(root, "compose_ps", "compose_down", "wipe=1").vars["wipe"] == "1"


@pytest.mark.parametrize(
    ("argv", "message", "fix"),
    [
        (("ui", "--port=x"), "--port=x is not a valid value for port", "use a whole number"),
        (("ui", "--port", "x"), "--port=x is not a valid value for port", "use a whole number"),
        (("graph", "--out"), "--out needs a value", "write out=<value>"),
    ],
)
def test_a_task_option_in_doits_spelling_with_a_bad_value_is_one_sentence(
    root: Path, argv: tuple[str, ...], message: str, fix: str
) -> None:
    error = usage(root, *argv)
    assert (error.message, error.fix) == (message, fix)


def test_a_task_option_in_doits_spelling_with_a_good_value_passes(root: Path) -> None:
    assert resolve(root, "ui", "--port=10400").words == ["ui"]
