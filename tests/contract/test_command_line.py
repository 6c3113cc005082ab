"""What doit says to a command line, before any task runs: usage errors (64) and configuration
errors (78) with their fix, options where doit reads them, help that changes nothing. doit run
in-process on a project copy, as a user would from its root."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tasks.families.shared import registry
from testing.fakes.cluster import FakeCluster
from testing.project import run_doit


@pytest.fixture(autouse=True)
def outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)


@pytest.mark.parametrize(
    ("argv", "message", "fix"),
    [
        (("compse_up",), "unknown task 'compse_up'", "did you mean 'compose_up'?"),
        (("compose_down", "wpie=1"), "unknown option wpie=1", "did you mean 'wipe'?"),
        (("compose_down", "wipe=maybe"), "wipe=maybe is not a valid value", "use one of 1, true"),
        (("minikube_logs", "tail=lots"), "tail=lots is not a valid value", "whole number"),
        (("deploy:dv",), "unknown environment 'dv' in 'deploy:dv'", "did you mean 'dev'?"),
        (("render", "env=prd"), "unknown environment 'prd'", "did you mean 'prod'?"),
        (
            ("rollback", "env=dev"),
            "`rollback` changes a cloud environment",
            "cloud environments: dev, prod, staging",
        ),
        (("deploy",), "`deploy` changes a cloud environment, so it acts on exactly one", "doit deploy:<env>"),
        (
            ("push:dev", "deploy:staging"),
            "one run may change one cloud environment",
            "one command per environment",
        ),
        (
            ("deploy:dev", "env=prod"),
            "env=prod contradicts the environment in the task name (dev)",
            "leave env= out",
        ),
        (("deploy:prod",), "prod is a protected environment", "doit deploy:prod confirm=prod"),
        (
            ("render", "-v", "2"),
            "-v is an option of doit, so it goes before the task names",
            "`doit -v <value> <tasks>`",
        ),
        (
            ("render", "--reporter", "json"),
            "--reporter is an option of doit",
            "`doit --reporter <value> <tasks>`",
        ),
        (("compose_down", "--wipe=1"), "--wipe=1: --wipe takes no value", "write `--wipe`, or `wipe=1`"),
        (
            ("deploy:local",),
            "local is not a cloud environment (environments/local.yaml has no `cloud:` block)",
            "use one of the cloud environments: dev, prod, staging",
        ),
    ],
)
def test_usage_errors_say_what_to_type(project: Path, argv: tuple[str, ...], message: str, fix: str) -> None:
    result = run_doit(project, *argv)
    assert result.code == 64, result.out  # never doit's option table or "Invalid parameter" (3)
    assert f"ERROR: {message}" in result.out and "Fix: " in result.out and fix in result.out, result.out
    assert "Traceback" not in result.out and "CmdOption" not in result.out


def test_doit_options_before_the_tasks_still_work(project: Path) -> None:
    assert run_doit(project, "-v", "2", "render:config").code == 0


def test_every_listed_task_is_registered(project: Path) -> None:
    listed = run_doit(project, command="list")
    assert listed.code == 0, listed.out
    names = {line.split()[0] for line in listed.out.splitlines() if line.strip() and not line.startswith(" ")}
    # The project's aliases (stack.yaml `aliases:`) are listed too, as tasks of their own.
    aliases = set(yaml.safe_load((project / "environments" / "stack.yaml").read_text()).get("aliases", {}))
    assert (
        aliases and names == (set(registry.tasks()) - {"minikube_load"}) | aliases
    )  # minikube_load: only for `image-load`
    everything = run_doit(project, "--all", "--quiet", command="list")
    assert {line.split(":")[0] for line in everything.out.split()} == names


def test_options_are_declared_params(project: Path) -> None:
    shown = run_doit(project, "compose_down", command="help")
    assert shown.code == 0
    assert (
        "--wipe" in shown.out
        and "also delete the data volumes (default: False; also `wipe=...`)" in shown.out
    )
    assert "--tail" in run_doit(project, "minikube_logs", command="help").out
    assert "--keep" in run_doit(project, "images_prune", command="help").out
    assert "--service" in run_doit(project, "port_forward", command="help").out
    assert "--fix" in run_doit(project, "tf_fmt", command="help").out


def test_tf_fmt_fix_is_a_param_and_a_key_value_word(project: Path) -> None:
    tf = project / "terraform/modules/eks/outputs.tf"
    tf.write_text(tf.read_text() + '\noutput "x" {\nvalue = 1\n}\n')
    assert run_doit(project, "tf_fmt").code != 0
    assert run_doit(project, "tf_fmt", "--fix").code == 0
    assert run_doit(project, "tf_fmt").code == 0
    tf.write_text(tf.read_text() + '\noutput "y" {\nvalue = 1\n}\n')
    assert run_doit(project, "tf_fmt", "fix=1").code == 0
    assert run_doit(project, "tf_fmt").code == 0


def test_help_info_list_and_forget_of_a_cloud_task_need_no_confirmation(project: Path) -> None:
    helped = run_doit(project, "deploy:prod", command="help")
    assert helped.code == 0 and "deploy" in helped.out, helped.out
    assert run_doit(project, "deploy", command="help").code == 0
    listed = run_doit(project, "--all", "deploy", command="list")
    assert listed.code == 0 and "deploy:prod" in listed.out, listed.out
    assert not run_doit(project, "deploy", command="forget").code  # doit returns None for forget
    # Running it still needs the confirmation, and one environment.
    assert run_doit(project, "deploy:prod").code == 64
    assert run_doit(project, "deploy").code == 64


def test_a_mutating_cloud_task_never_touches_a_second_environment(
    project: Path, fake_cluster: FakeCluster
) -> None:
    clusters = {
        env: FakeCluster(fake_cluster.state_dir, profile=f"srvthreds-{env}") for env in ("dev", "prod")
    }
    for cluster in clusters.values():
        cluster.create_cluster()
    refused = run_doit(project, "rollback", "env=dev")  # what once rolled back dev, staging and prod
    assert refused.code == 64, refused.out
    assert fake_cluster.calls("kubectl") == []
    run_doit(project, "rollback:dev")
    contexts = {c["argv"][1] for c in fake_cluster.calls("kubectl") if c["argv"][:1] == ["--context"]}
    assert contexts <= {"srvthreds-dev"}, contexts


def test_a_copied_cloud_environment_never_acts_on_the_original_cluster(project: Path) -> None:
    # A team copies a cloud environment to make another one (the hint suggests a local one).
    envs = project / "environments"
    (envs / "qa.yaml").write_text((envs / "dev.yaml").read_text())
    # A verbatim copy creates the account's shared resources again: refused when it loads, by
    # every task that reads it, with the fix, before any task runs.
    for argv in (["render"], ["rollback:qa"]):
        refused = run_doit(project, *argv)
        assert refused.code == 78 and "==> At cloud.create_shared\n" in refused.out, refused.out
        assert "Fix: remove `create_shared: true` here" in refused.out
    copy = (envs / "dev.yaml").read_text().replace("create_shared: true", "create_shared: false")
    (envs / "qa.yaml").write_text(copy)
    result = run_doit(project, "rollback:qa")
    assert result.code == 78, result.out
    assert "==> File environments/qa.yaml, line 10\n==> At cloud.cluster_name\n" in result.out, result.out
    assert "is also environment dev's" in result.out and "Fix: give qa its own cluster_name" in result.out
    assert run_doit(project, "render").code == 0  # rendering changes no cluster
    (envs / "qa.yaml").write_text(copy.replace("srvthreds-dev", "srvthreds-qa"))
    assert "is also environment" not in run_doit(project, "rollback:qa").out


def test_a_target_of_a_broken_environment_shows_its_config_error(project: Path) -> None:
    prod = project / "environments" / "prod.yaml"
    prod.write_text(
        prod.read_text().replace(
            "engine: {autoscale: {min: 3, max: 9, cpu: 70}}", "engine: {replicas: three}"
        )
    )
    result = run_doit(project, "k8s/overlays/prod/kustomization.yaml")
    assert result.code == 78, result.out  # not doit's "Invalid parameter"
    assert "==> File environments/prod.yaml, line 11\n==> At services.engine.replicas\n" in result.out
    assert run_doit(project, "k8s/base/namespace.yaml").code == 0  # other targets keep working


def test_a_badly_named_environment_file_is_a_config_error_naming_the_file(project: Path) -> None:
    envs = project / "environments"
    (envs / "My.Env.yaml").write_text((envs / "test.yaml").read_text())
    result = run_doit(project, command="list")
    assert result.code == 78, result.out
    assert "==> File environments/My.Env.yaml\n" in result.out, result.out
    assert (
        "Fix: rename the file to lowercase letters, digits and '-' (e.g. environments/my-env.yaml)"
        in result.out
    )


def test_an_editor_lock_file_in_environments_is_not_an_environment(project: Path) -> None:
    # Emacs keeps `.#local.yaml` (a dangling symlink) while local.yaml has unsaved edits.
    (project / "environments" / ".#local.yaml").symlink_to("user@host.1234:1700000000")
    listed = run_doit(project, command="list")
    assert listed.code == 0, listed.out
    rendered = run_doit(project, "render")
    assert rendered.code == 0, rendered.out
    assert "Traceback" not in rendered.out


def _without_local(project: Path) -> None:
    envs = project / "environments"
    (envs / "local.yaml").rename(envs / "laptop.yaml")
    stack = envs / "stack.yaml"
    stack.write_text(stack.read_text().replace("default_env: local\n", ""))


def test_a_project_without_a_local_environment_works_on_its_first_compose_one(project: Path) -> None:
    _without_local(project)
    listed = run_doit(project, command="list")
    assert listed.code == 0, listed.out
    assert "Configuration error" not in listed.out, listed.out
    helped = run_doit(project, "compose_down", command="help")
    assert helped.code == 0 and "--wipe" in helped.out, helped.out
    # A task that needs no environment records its run in the default one's database; no
    # database is made for an environment that does not exist.
    assert run_doit(project, "tf_fmt").code == 0
    assert sorted(p.name for p in (project / ".build" / "state").glob("*.json")) == ["laptop.json"]


def test_an_unknown_default_environment_is_refused_and_writes_nothing(project: Path) -> None:
    stack = project / "environments" / "stack.yaml"
    stack.write_text(stack.read_text().replace("default_env: local\n", "default_env: lcoal\n"))
    result = run_doit(project, "compose_ps")
    assert result.code == 78, result.out
    assert "==> At default_env\n" in result.out and "did you mean 'local'?" in result.out, result.out
    assert not (project / ".build" / "state").exists() or not list((project / ".build" / "state").iterdir())


def test_a_broken_stack_file_does_not_block_help(project: Path) -> None:
    stack = project / "environments" / "stack.yaml"
    stack.write_text(stack.read_text() + "bogus_key: 1\n")
    for argv in ([], ["compose_up"], ["deploy:dev"]):
        helped = run_doit(project, *argv, command="help")
        assert helped.code == 0 and "bogus_key" not in helped.out, (argv, helped.out)
    assert run_doit(project, "compose_up").code == 78  # what needs the file still stops with its error


def test_a_listing_read_by_a_reader_that_stops_early_ends_without_a_traceback(project: Path) -> None:
    """`doit list | head -1`: the reader is gone before doit writes its first line."""
    lister = subprocess.Popen(
        [sys.executable, "-m", "doit", "list", "--all"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert lister.stdout is not None
    lister.stdout.close()
    _, err = lister.communicate(timeout=300)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert lister.returncode == -signal.SIGPIPE  # ended as `ls | head` ends: by the signal


def test_listing_needs_none_of_the_packages_only_long_running_tasks_use(project: Path) -> None:
    """An environment installed before `doit dev` and `doit ui` existed still lists every task."""
    code = (
        "import sys\n"
        "for name in ('watchfiles', 'uvicorn', 'starlette'): sys.modules[name] = None\n"
        "from doit.doit_cmd import DoitMain\n"
        "sys.exit(DoitMain().run(['list']))\n"
    )
    listed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    assert {"dev", "ui", "graph"} <= {line.split()[0] for line in listed.stdout.splitlines() if line.strip()}
