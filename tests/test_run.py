"""The run is resolved once (tasks/cli/run.py): environment, options, one cloud environment per
mutating command, a lock per checkout, and a dependency database that survives a kill."""

from __future__ import annotations

import fcntl
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tasks.cli import run
from tasks.cli.exits import UsageError
from tasks.families.shared import catalog
from tasks.families.shared.run import Run
from tasks.store import state
from testing.fakes.cluster import FakeCluster
from testing.project import run_doit, snapshot

GENERATED = ("k8s", "compose", "terraform")


def resolve(project: Path, *argv: str) -> Run:
    return run.resolve(list(argv), project)


# --------------------------------------------------------------------------- one rule for the environment


def test_argv_is_split_like_doit_does(project: Path) -> None:
    assert run.split_argv(["-v", "2", "compose_down", "--wipe", "env=dev"]) == (
        "run",
        ["compose_down"],
        {"env": "dev"},
    )
    assert run.split_argv(["minikube_logs", "--tail", "10"]) == ("run", ["minikube_logs"], {})
    assert run.split_argv(["help", "compose_down"]) == ("help", ["compose_down"], {})
    assert run.split_argv(["--reporter", "json", "render", "validate"]) == ("run", ["render", "validate"], {})


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
def test_one_rule_decides_the_environment(project: Path, argv: tuple[str, ...], env: str) -> None:
    assert resolve(project, *argv).env == env


def test_a_minikube_run_uses_its_environment_for_the_host_databases(project: Path) -> None:
    resolved = resolve(project, "minikube_up")
    assert resolved.env_for("compose_up_dbs") == "minikube"
    listing = resolve(project, "list")
    assert listing.env_for("compose_up") == "local" and listing.env_for("minikube_up") == "minikube"


# --------------------------------------------------------------------------- usage errors


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
        (("deploy",), "acts on exactly one", "doit deploy:<env>"),
        (
            ("push:dev", "deploy:staging"),
            "one run may change one cloud environment; this one names dev, staging",
            "one command per environment",
        ),
        (
            ("deploy:dev", "env=prod"),
            "env=prod contradicts the environment in the task name (dev)",
            "a cloud task's environment is its name",
        ),
    ],
)
def test_usage_errors_say_what_to_type(project: Path, argv: tuple[str, ...], message: str, fix: str) -> None:
    with pytest.raises(UsageError) as info:
        resolve(project, *argv)
    assert message in info.value.message
    assert fix in (info.value.fix or "")
    result = run_doit(project, *argv)
    assert result.code == 64, result.out
    assert message in result.out and "Traceback" not in result.out


def test_protected_environment_needs_confirmation_outside_ci(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(UsageError, match="prod is a protected environment"):
        resolve(project, "deploy:prod")
    assert resolve(project, "deploy:prod", "confirm=prod").env == "prod"
    with pytest.raises(UsageError, match="protected"):
        resolve(project, "deploy:prod", "confirm=dev")  # the confirmation names the environment
    assert resolve(project, "deploy:dev").env == "dev"  # dev is not protected
    assert resolve(project, "tf_plan:prod").env == "prod"  # read-only: no confirmation
    monkeypatch.setenv("CI", "true")
    assert resolve(project, "deploy:prod").env == "prod"


def test_every_listed_task_is_in_the_catalog(project: Path) -> None:
    listed = run_doit(project, command="list")
    assert listed.code == 0, listed.out
    names = {line.split()[0] for line in listed.out.splitlines() if line.strip() and not line.startswith(" ")}
    assert names <= set(catalog.TASKS), names - set(catalog.TASKS)
    assert "deploy" in names and "compose_up" in names


def test_options_are_declared_params(project: Path) -> None:
    shown = run_doit(project, "compose_down", command="help")
    assert shown.code == 0
    assert "--wipe" in shown.out and "also delete the data volumes" in shown.out
    assert "--tail" in run_doit(project, "minikube_logs", command="help").out
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


# --------------------------------------------------------------------------- cloud: one environment


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


# --------------------------------------------------------------------------- state: lock, kills, damage


def doit(project: Path, *args: str, **kw: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONHASHSEED": str(kw.pop("seed", "random"))}
    proc: subprocess.Popen[str] = subprocess.Popen(  # type: ignore[call-overload]
        [sys.executable, "-m", "doit", *args],
        cwd=project,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        **kw,
    )
    return proc


def edit_stack(project: Path, level: str) -> None:
    path = project / "environments/stack.yaml"
    text = path.read_text()
    for old in ("LOG_LEVEL: info", "LOG_LEVEL: warn", "LOG_LEVEL: debug"):
        text = text.replace(old, f"LOG_LEVEL: {level}")
    path.write_text(text)


def test_rendering_is_the_same_in_fresh_processes_with_other_hash_seeds(project: Path) -> None:
    outputs = []
    for seed in ("1", "2"):
        state_dir = project / ".build"
        proc = doit(project, "-a", "render", seed=seed)
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out
        outputs.append(snapshot(project, *GENERATED))
        assert state_dir.exists()
    assert outputs[0] == outputs[1]


def test_two_concurrent_runs_wait_for_each_other_and_agree(project: Path) -> None:
    assert run_doit(project, "render").code == 0
    edit_stack(project, "warn")
    procs = [doit(project, "render") for _ in range(2)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all("Traceback" not in out for out in outs)
    assert 'LOG_LEVEL: "warn"' in (project / "compose/local/docker-compose-services.yml").read_text()
    reference = snapshot(project, *GENERATED)
    assert run_doit(project, "render").executed() == []  # both runs left a consistent database
    assert snapshot(project, *GENERATED) == reference
    assert not [p for p in project.rglob("*.tmp")]


def test_a_second_run_says_which_run_it_waits_for(project: Path) -> None:
    lock = state.BUILD / "run.lock"
    path = project / lock
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("pid 4242 (`doit minikube_up`)\n")
        held.flush()
        proc = doit(project, "render")
        time.sleep(2)
        assert proc.poll() is None  # it waits instead of colliding
        fcntl.flock(held, fcntl.LOCK_UN)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    assert "waiting for pid 4242 (`doit minikube_up`) to finish" in out


def test_list_and_help_do_not_wait_for_the_lock(project: Path) -> None:
    path = project / state.BUILD / "run.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        proc = doit(project, "list")
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "compose_up" in out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_killed_runs_converge_to_the_same_output(project: Path, sig: signal.Signals) -> None:
    assert run_doit(project, "render").code == 0
    rng = random.Random(sig.value)
    levels = ["warn", "debug", "info"]
    for i in range(3):
        edit_stack(project, levels[i])
        proc = doit(project, "render")
        assert proc.stdout is not None
        first = proc.stdout.readline()  # doit is running tasks (its own start-up is not ours)
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(sig)
        out = first + proc.communicate(timeout=120)[0]
        assert "Traceback" not in out, out
        if sig != signal.SIGKILL and proc.returncode != 0:
            # -2: exits as interrupted (130); a signal in start-up or shutdown ends it as sent.
            assert proc.returncode in (0, 1, 2, -signal.SIGINT.value, -sig.value), out
    finish = doit(project, "render")
    out, _ = finish.communicate(timeout=120)
    assert finish.returncode == 0, out
    edited = snapshot(project, *GENERATED)
    fresh = project.parent / "fresh"
    (project / ".build").rename(project.parent / "old-build")
    proc = doit(project, "-a", "render")
    assert proc.communicate(timeout=120)[1] is None and proc.returncode == 0
    assert snapshot(project, *GENERATED) == edited
    assert not fresh.exists()
    assert not [p for p in project.rglob("*.tmp")]


def test_a_damaged_dependency_database_is_rebuilt_with_a_message(project: Path) -> None:
    assert run_doit(project, "render").code == 0
    db = project / state.dep_file("local")
    db.write_text(db.read_text()[:40])  # what a kill in the middle of a write used to leave
    again = run_doit(project, "render")
    assert again.code == 0, again.out
    assert "was damaged" in again.out and "rebuilt" in again.out
    assert json.loads(db.read_text())  # written whole (atomically) at the end of the run
    assert (db.parent / "local.json.damaged").exists()


@pytest.mark.parametrize(
    ("value", "fix"),
    [
        ("local.yaml", "write env=local (the file name without .yaml)"),
        ("", "use lowercase letters, digits and '-'"),
        ("Bad_Name", "use lowercase letters, digits and '-'"),
        ("qa", "To add one, copy a small file: cp environments/dev.yaml environments/qa.yaml"),
    ],
)
def test_unknown_environment_fixes_fit_what_was_typed(project: Path, value: str, fix: str) -> None:
    with pytest.raises(UsageError) as info:
        resolve(project, "compose_up", f"env={value}")
    assert fix in (info.value.fix or "")
