"""Resolving the run (tasks/cli/run.py), edges found unguarded by `bench/mutation.py run`: called
directly (no doit process), on a scratch copy of the project where a file is broken."""

from __future__ import annotations

import json
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pytest
from doit.dependency import JSONCodec, JsonDB

from tasks.cli import exits, interrupts, run
from tasks.cli.exits import UsageError
from tasks.errors import ConfigError, StackError
from tasks.families.shared.run import Run
from tasks.store import state
from testing.project import REPO


def copy_envs(dest: Path) -> Path:
    """What `resolve` reads: the environments (copied, to break them) and the folders they name."""
    shutil.copytree(REPO / "environments", dest / "environments")
    for folder in ("demo", "docker"):
        (dest / folder).symlink_to(REPO / folder, target_is_directory=True)
    return dest


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared by the tests that change nothing."""
    return copy_envs(tmp_path_factory.mktemp("run"))


@pytest.fixture
def envs(tmp_path: Path) -> Path:
    return copy_envs(tmp_path)


def resolve(root: Path, *argv: str) -> Run:
    return run.resolve(list(argv), root)


def usage(root: Path, *argv: str) -> UsageError:
    with pytest.raises(UsageError) as info:
        resolve(root, *argv)
    return info.value


def break_env(root: Path, env: str) -> None:
    (root / "environments" / f"{env}.yaml").write_text("nonsense_key: 1\n")


# --------------------------------------------------------------------------- the command line


@pytest.mark.parametrize(
    ("argv", "split"),
    [
        (["--reporter=json", "render"], ("run", ["render"], {})),  # its value is in the word
        (["--tail=5", "minikube_logs"], ("run", ["minikube_logs"], {})),
        (["--keep", "3", "images_prune"], ("run", ["images_prune"], {})),  # a task option's value
        (["--wipe", "compose_down"], ("run", ["compose_down"], {})),  # a flag takes no value
        (["render", "list"], ("run", ["render", "list"], {})),  # only the first word is a command
        (["list", "info"], ("list", ["info"], {})),
        (["forget", "env=dev", "render"], ("forget", ["render"], {"env": "dev"})),
        (["service=a=b", "port_forward"], ("run", ["port_forward"], {"service": "a=b"})),
    ],
)
def test_argv_edges_are_split_like_doit(
    argv: list[str], split: tuple[str, list[str], dict[str, str]]
) -> None:
    assert run.split_argv(argv) == split


@pytest.mark.parametrize(
    ("argv", "message", "fix"),
    [
        (["render", "-v", "2"], "-v is an option of doit, so it goes before", "`doit -v <value> <tasks>`"),
        (["render", "-a"], "-a is an option of doit", "`doit -a <tasks>`"),
        (
            ["render", "--reporter=json"],
            "--reporter is an option of doit",
            "`doit --reporter <value> <tasks>`",
        ),
        (["compose_down", "--wipe=1"], "--wipe=1: --wipe takes no value", "write `--wipe`, or `wipe=1`"),
        (["-v", "2", "render", "-a"], "-a is an option of doit", "`doit -a <tasks>`"),  # one value skipped
        (["compose_down", "--wipe", "-a"], "-a is an option of doit", "`doit -a <tasks>`"),  # a flag has none
        (["-a", "render", "-v", "2"], "-v is an option of doit", "`doit -v <value> <tasks>`"),
    ],
)
def test_options_in_the_wrong_place_say_where_they_go(
    root: Path, argv: list[str], message: str, fix: str
) -> None:
    error = usage(root, *argv)
    assert message in error.message and fix in (error.fix or "")


@pytest.mark.parametrize(
    "argv",
    [
        ["-v", "2", "render"],
        ["-v", "2", "-a", "render"],  # a doit option's value is not a task name
        ["--reporter", "json", "render"],
        ["run", "-a", "render"],  # `run` is doit's command, not a task
        ["env=dev", "-a", "render"],  # key=value words are not task names
        ["minikube_logs", "--tail", "5"],  # a task's own option after the task
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
    assert run._is_target(word) is target


def test_targets_are_not_checked_as_task_names(root: Path) -> None:
    assert resolve(root, "k8s/base/namespace.yaml").words == ["k8s/base/namespace.yaml"]
    assert resolve(root, "help", "nonsense").command == "help"  # doit says what it knows
    assert resolve(root, "run").words == []


def test_internal_steps_may_be_named(root: Path) -> None:
    assert resolve(root, "_render_k8s").words == ["_render_k8s"]


# --------------------------------------------------------------------------- environments


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


def test_cloud_envs_are_those_with_a_cloud_block_and_the_broken_ones(envs: Path) -> None:
    resolved = resolve(envs, "compose_up")
    assert [env for env, _ in resolved.cloud_envs()] == ["dev", "prod", "staging"]
    break_env(envs, "test")
    fresh = Run(envs, "run", [], {}, "local", resolved.envs)
    assert fresh.env_for("minikube_up") == "minikube"  # not inferred unless said so
    listed = dict(fresh.cloud_envs())
    assert sorted(listed) == ["dev", "prod", "staging", "test"]
    assert isinstance(listed["test"], StackError)
    with pytest.raises(StackError, match="environments/test.yaml"):
        fresh.config("test")
    assert fresh.config("dev").env == "dev"


def test_the_cloud_choices_name_broken_environments_too(envs: Path) -> None:
    break_env(envs, "test")
    error = usage(envs, "deploy")
    assert "cloud environments: dev, prod, staging, test" in (error.fix or "")


def test_a_named_task_on_an_environment_without_cloud_says_which_have_one(root: Path) -> None:
    for word in ("deploy:local", "tf_plan:test"):
        error = usage(root, word)
        env = word.partition(":")[2]
        assert (
            f"{env} is not a cloud environment (environments/{env}.yaml has no `cloud:` block)"
            in error.message
        )
        assert f"so there is no `{word}`" in error.message
        assert error.fix == "use one of the cloud environments: dev, prod, staging"
    assert resolve(root, "tf_plan:dev").env == "dev"


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


# --------------------------------------------------------------------------- which files must load


def test_only_the_files_the_tasks_read_must_be_valid(envs: Path) -> None:
    break_env(envs, "dev")
    assert resolve(envs, "compose_up").env == "local"
    assert resolve(envs, "tf_plan:staging").env == "staging"
    assert resolve(envs, "help").command == "help"  # no task named: nothing to load
    assert resolve(envs, "dumpdb").command == "dumpdb"
    assert resolve(envs, "forget", "compose_up").command == "forget"
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
        ["help", "tf_plan:dev"],
        ["k8s/overlays/dev/kustomization.yaml"],
        ["compose/dev/docker-compose-services.yml"],
    ):
        with pytest.raises(ConfigError) as info:
            resolve(envs, *argv)
        assert "environments/dev.yaml" in info.value.render(), argv


def test_every_broken_file_is_reported_once(envs: Path) -> None:
    break_env(envs, "dev")
    break_env(envs, "test")
    with pytest.raises(StackError) as info:
        resolve(envs, "list")
    errors = getattr(info.value, "errors", [])
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
    with pytest.raises(StackError) as same:
        resolve(envs, "list")
    files = [e.render().split(",")[0] for e in getattr(same.value, "errors", [])]
    # local and offline take it from stack.yaml (one report); test.yaml sets services itself
    assert files == ["==> File environments/stack.yaml", "==> File environments/test.yaml"]
    stack.write_text("nonsense_key: 1\n")
    with pytest.raises(ConfigError) as one:  # every environment merges the stack: one report
        resolve(envs, "list")
    assert "environments/stack.yaml" in one.value.render()


# --------------------------------------------------------------------------- options and doit


def test_an_option_has_its_default_or_the_given_value(root: Path) -> None:
    assert resolve(root, "minikube_logs").option("minikube_logs", "tail") == 50
    given = resolve(root, "minikube_logs", "tail=7")
    assert given.option("minikube_logs", "tail") == 7
    assert given.params("minikube_logs")[0]["default"] == 7


def test_the_doit_config_keeps_one_database_per_environment(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    resolved = resolve(root, "compose_up", "env=dev")
    cfg = resolved.doit_config()
    assert resolved.doit_config() == cfg  # the second run in one process finds the folder made
    assert (
        cfg["dep_file"] == str(state.dep_file("dev")) and (tmp_path / state.dep_file("dev")).parent.is_dir()
    )
    assert cfg["default_tasks"] == ["render", "validate"] and cfg["backend"] == "json"


def test_a_bound_creator_gets_the_run(root: Path) -> None:
    resolved = resolve(root, "compose_up")

    def task_demo(given: Run) -> str:
        return given.env

    bound = resolved.bind(task_demo)
    assert bound() == "local" and bound.__name__ == "task_demo"


# --------------------------------------------------------------------------- starting


@pytest.fixture
def started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    copy_envs(tmp_path)
    monkeypatch.chdir(tmp_path)
    state.release_lock()
    yield tmp_path
    state.release_lock()


def test_start_takes_the_lock_and_sweeps_what_a_killed_run_left(
    started: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (started / "k8s" / "base").mkdir(parents=True)
    (started / "k8s" / "base" / ".a.yaml.tmp").write_text("partial")
    (started / "docs").mkdir()
    (started / "docs" / ".b.tmp").write_text("not ours")
    state.dep_file("local").parent.mkdir(parents=True)
    state.dep_file("local").write_text("{trunc")
    resolved = run.start(["render"], started)
    assert resolved.env == "local"
    assert "pid" in state.lock_file().read_text() and "`doit render`" in state.lock_file().read_text()
    assert not (started / "k8s" / "base" / ".a.yaml.tmp").exists()
    assert (started / "docs" / ".b.tmp").exists()
    assert "NOTE: the dependency database" in capsys.readouterr().err
    # doit's database is saved through write_atomic, and only wrapped once
    db = JsonDB(str(started / "db.json"), codec=JSONCodec())
    db._db = {"render": {"x": "1"}}
    db.dump()
    assert json.loads((started / "db.json").read_text()) == {"render": {"x": "1"}}
    dump = JsonDB.dump
    run.start(["render"], started)
    assert JsonDB.dump is dump and getattr(dump, "stackbuild", False)


def test_a_read_only_command_neither_locks_nor_sweeps(
    started: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (started / "k8s").mkdir()
    (started / "k8s" / ".a.yaml.tmp").write_text("maybe another run's")
    run.start(["list"], started)
    assert not state.lock_file().exists() and (started / "k8s" / ".a.yaml.tmp").exists()
    assert capsys.readouterr().err == ""


def test_start_reports_a_usage_error_and_exits(started: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        run.start(["compse_up"], started)
    assert info.value.code == exits.USAGE
    assert "ERROR: unknown task 'compse_up'" in capsys.readouterr().err


def test_start_reports_every_broken_file(started: Path, capsys: pytest.CaptureFixture[str]) -> None:
    break_env(started, "dev")
    break_env(started, "test")
    with pytest.raises(SystemExit) as info:
        run.start(["list"], started)
    assert info.value.code == exits.CONFIG
    err = capsys.readouterr().err
    assert err.count("ERROR: ") == 2 and "dev.yaml" in err and "test.yaml" in err


def test_a_build_folder_in_the_way_is_a_clear_error(
    started: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (started / ".build").write_text("a file, not a folder")
    with pytest.raises(SystemExit) as info:
        run.start(["render"], started)
    assert info.value.code == exits.USAGE
    err = capsys.readouterr().err
    assert "cannot use the build state folder .build/" in err and "rm -rf .build" in err
    with pytest.raises(SystemExit) as listing:  # a command that takes no lock is told the same
        run.start(["list"], started)
    assert listing.value.code == exits.USAGE
    assert "cannot use the build state folder .build/" in capsys.readouterr().err


def test_start_installs_the_interrupt_handlers(started: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def plain(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        pass

    monkeypatch.setattr(sys, "excepthook", plain)
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        run.start(["list"], started)
        assert getattr(sys.excepthook, "stackbuild", False)
        assert signal.getsignal(signal.SIGTERM) is interrupts._sigterm
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_ctrl_c_while_waiting_for_the_lock_says_nothing_ran(
    started: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(describe: str, *, waiting: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(state, "acquire_lock", interrupted)
    with pytest.raises(SystemExit) as info:
        run.start(["render"], started)
    assert info.value.code == exits.INTERRUPTED
    assert "Interrupted while waiting for the other run: nothing ran." in capsys.readouterr().err


def test_waiting_says_for_whom_and_for_how_long(capsys: pytest.CaptureFixture[str]) -> None:
    run._say_waiting("pid 42 (`doit images`)")
    run._say_waiting("done waiting after 1.0 s")
    assert capsys.readouterr().err == (
        "Another run holds this checkout: waiting for pid 42 (`doit images`) to finish"
        " (Ctrl-C to give up)...\n"
        "  done waiting after 1.0 s\n"
    )


@pytest.mark.parametrize(
    ("argv", "message", "fix"),
    [
        (
            ["compse_up"],
            "unknown task 'compse_up'",
            "did you mean 'compose_up'? `doit list` shows every task",
        ),
        (["qqqq"], "unknown task 'qqqq'", "`doit list` shows every task"),
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
            ["push:dev", "deploy:staging"],
            "one run may change one cloud environment; this one names dev, staging",
            "",
        ),
        (
            ["deploy:dev", "env=prod"],
            "env=prod contradicts the environment in the task name (dev)",
            "leave env= out",
        ),
    ],
)
def test_usage_errors_name_the_word_and_the_fix(root: Path, argv: list[str], message: str, fix: str) -> None:
    error = usage(root, *argv)
    assert error.message.startswith(message) and (error.fix or "").startswith(fix)


def test_one_cloud_environment_may_be_named_by_several_tasks(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    assert resolve(root, "push:dev", "deploy:dev", "env=dev").env == "dev"
    assert resolve(root, "tf_plan:dev", "smoke:dev").env == "dev"
    assert resolve(root, "tf_plan:dev", "tf_plan:staging").env == "dev"  # read-only: any number
    assert resolve(root, "help", "deploy").command == "help"  # changes nothing: no name needed


def test_a_protected_environment_needs_its_own_name_confirmed(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    refused = usage(root, "deploy:prod")
    assert refused.message == "prod is a protected environment: `deploy:prod` changes it"
    assert refused.fix == "if you mean it, run `doit deploy:prod confirm=prod` (CI runs need no confirmation)"
    assert resolve(root, "deploy:prod", "confirm=prod").env == "prod"
    assert "protected" in usage(root, "deploy:prod", "confirm=dev").message
    assert resolve(root, "deploy:dev").env == "dev" and resolve(root, "tf_plan:prod").env == "prod"
    assert resolve(root, "list", "deploy:prod").command == "list"  # only an executing command
    monkeypatch.setenv("CI", "true")
    assert resolve(root, "deploy:prod").env == "prod"


def test_the_ci_variable_only_counts_when_true(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "false")
    assert "protected" in usage(root, "deploy:prod").message
