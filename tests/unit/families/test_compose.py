"""tasks/families/compose.py's task creators called directly: what each task waits for, when it is
up to date, and what an environment that runs nothing in Compose (or a broken one) gets.

The whole flow against the fake programs is tests/contract/test_compose_up.py.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from doit.exceptions import TaskFailed

from tasks.config import load as config
from tasks.families import compose as ct
from tasks.families.shared.run import Run
from tasks.model import Config
from tasks.ops import compose as cops
from tasks.ops import compose_volumes as volumes
from tasks.ops.compose_stack import Stack
from tasks.store import images
from testing.composebox import host_ports
from testing.fakes import compose as fake_compose
from testing.fakes import docker as fake_docker
from testing.harness import FakeBin
from testing.project import REPO

ENV = "offline"


def cfg_of(env: str = ENV, **changes: Any) -> Config:
    return dataclasses.replace(config.load(env, REPO), **changes)


def by_name(stack: Stack) -> dict[str, dict[str, Any]]:
    return {task["basename"]: task for task in ct.stack_tasks(stack)}


def run_action(task: dict[str, Any]) -> Any:
    action = task["actions"][0]
    func, args = action if isinstance(action, tuple) else (action, [])
    return func(*args)


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "compose" / ENV, tmp_path / "compose" / ENV, ignore=shutil.ignore_patterns(".env"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "text, mode, complete",
    [
        ("RABBITMQ_PASSWORD=x\n", 0o600, True),
        ("RABBITMQ_PASSWORD=x\nEXTRA=y\n", 0o400, True),
        ("RABBITMQ_PASSWORD=x\n", 0o640, False),  # ensure_env_file must run (and refuse it)
        ("RABBITMQ_PASSWORD=x\n", 0o604, False),
        ("OTHER=x\n", 0o600, False),  # a secret is missing
        ("RABBITMQ_PASSWORD: x #c\n", 0o600, True),  # Compose's grammar
        ('RABBITMQ_PASSWORD="x\n', 0o600, False),  # a line Compose cannot read: no traceback either
        (None, 0, False),
    ],
)
def test_env_file_is_complete_only_when_private_and_holding_every_secret(
    work: Path, text: str | None, mode: int, complete: bool
) -> None:
    stack = Stack(cfg_of())
    if text is not None:
        path = Path(stack.env_file)
        path.write_text(text)
        path.chmod(mode)
    assert ct.env_file_complete(stack) is complete


def test_a_linked_env_file_is_never_complete(work: Path, tmp_path: Path) -> None:
    stack = Stack(cfg_of())
    target = tmp_path / "elsewhere.env"
    target.write_text("RABBITMQ_PASSWORD=x\n")
    target.chmod(0o600)
    Path(stack.env_file).symlink_to(target)
    assert ct.env_file_complete(stack) is False  # so ensure_env_file runs, and says why


def test_every_up_step_waits_for_its_images_and_the_preflight(work: Path) -> None:
    stack = Stack(cfg_of())
    tasks = by_name(stack)
    dbs, services, jobs = tasks["compose_up_dbs"], tasks["compose_up_services"], tasks["compose_jobs"]
    # Prometheus too: the offline environment's monitoring component runs it beside the databases.
    assert dbs["task_dep"] == [
        ct.PREFLIGHT,
        "_compose_env",
        "images:redis",
        "images:rabbitmq",
        "images:prometheus",
    ]
    assert services["task_dep"] == [
        ct.PREFLIGHT,
        "_compose_env",
        "images:engine",
        "images:session-agent",
        "compose_up_dbs",
    ]
    assert jobs["task_dep"][-2:] == ["compose_up_dbs", "compose_up_services"]
    assert f".build/{ENV}/images/engine.ref" in services["file_dep"]
    assert f"compose/{ENV}/.env" in services["file_dep"]
    assert [t for t in tasks if t.startswith("_compose_") and t != "_compose_env"] == []  # no hooks
    assert tasks["compose_up"]["task_dep"] == [
        ct.PREFLIGHT,
        "images",
        "compose_up_dbs",
        "compose_up_services",
        "compose_jobs",
    ]
    assert tasks["compose_config"]["task_dep"] == ["_compose_env"]
    # What it shows is rendered first: the Compose files are render's targets.
    assert tasks["compose_config"]["file_dep"] == list(Stack(cfg_of()).files)
    assert tasks["compose_config"]["file_dep"] and "file_dep" not in tasks["compose_ps"]
    assert tasks["compose_logs"]["task_dep"] == []
    for name in ("compose_down", "compose_ps", "compose_logs", "compose_config"):
        assert tasks[name]["uptodate"] == [False], name  # they report or act each time


def test_hooks_run_before_the_images_and_after_them_before_any_step(work: Path) -> None:
    hooks = {"pre_build": ("echo pre",), "post_build": ("echo post",)}
    tasks = by_name(Stack(cfg_of(hooks=hooks)))
    assert tasks["_compose_pre_build"]["task_dep"] == []
    assert tasks["_compose_post_build"]["task_dep"] == ["images"]
    assert tasks["_compose_pre_build"]["uptodate"] == [False]  # hooks run on every compose_up
    assert tasks["compose_up"]["task_dep"][:4] == [
        ct.PREFLIGHT,
        "_compose_pre_build",
        "images",
        "_compose_post_build",
    ]
    for step in ("compose_up_dbs", "compose_up_services", "compose_jobs"):
        assert "_compose_post_build" in tasks[step]["task_dep"], step
    only_post = by_name(Stack(cfg_of(hooks={"pre_build": (), "post_build": ("echo post",)})))
    assert "_compose_pre_build" not in only_post
    assert "_compose_pre_build" not in only_post["compose_up"]["task_dep"]


def test_up_steps_are_current_only_while_their_containers_run(
    work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakes = FakeBin(tmp_path / "fakes")
    daemon = fake_docker.install(fakes.bin_dir, tmp_path / "docker-state", log=fakes.log)
    fakes.activate(monkeypatch)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    stack = Stack(cfg_of())
    check, args = by_name(stack)["compose_up_dbs"]["uptodate"][0]
    assert check(*args) is False
    for name in ("redis", "rabbitmq", "prometheus"):
        labels = {"com.docker.compose.project": stack.project, "com.docker.compose.service": name}
        daemon.add_container(
            f"{stack.project}-{name}-1", "x", state="running", labels=labels, health="healthy"
        )
    args[0].forget()
    assert check(*args) is True


class _Task:
    def __init__(self) -> None:
        self.value_savers: list[Callable[[], dict[str, Any]]] = []


def test_jobs_run_again_when_the_data_volumes_were_recreated_never_when_data_is_written(
    work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakes = FakeBin(tmp_path / "fakes")
    daemon = fake_docker.install(fakes.bin_dir, tmp_path / "docker-state", log=fakes.log)
    fake_compose.install(fakes.bin_dir, tmp_path / "docker-state", log=fakes.log)
    fakes.activate(monkeypatch)
    host_ports(monkeypatch)
    (work / "compose" / ENV / ".env").write_text("RABBITMQ_PASSWORD=x\n")
    (work / "compose" / ENV / ".env").chmod(0o600)
    for name in ("redis", "rabbitmq", "prometheus"):
        (work / images.ref_file(ENV, name)).parent.mkdir(parents=True, exist_ok=True)
        (work / images.ref_file(ENV, name)).write_text(f"{name}:1\n")
    stack = Stack(cfg_of())
    live = cops.Live(stack.project)
    unchanged = by_name(stack)["compose_jobs"]["uptodate"][0]
    assert unchanged(_Task(), {}) is False  # volumes not created yet: the jobs must run
    cops.up(stack, live, stack.dbs(), "databases")
    task = _Task()
    assert unchanged(task, {}) is False  # never ran
    saved = task.value_savers[0]()  # what doit keeps after the jobs ran
    # The databases write their data: on Docker 20.10 the volumes' CreatedAt moves.
    for name in volumes.data_volumes(stack):
        daemon.write_to_volume(name)
    assert unchanged(_Task(), saved) is True
    cops.down(stack, live)  # data kept
    cops.up(stack, live, stack.dbs(), "databases")
    assert unchanged(_Task(), saved) is True
    cops.down(stack, live, wipe=True)  # data deleted: the jobs' work is gone
    assert unchanged(_Task(), saved) is False
    cops.up(stack, live, stack.dbs(), "databases")
    assert unchanged(_Task(), saved) is False


def test_an_environment_that_runs_nothing_in_compose_says_how_to_deploy_it(work: Path) -> None:
    # dev: runtime kubernetes, every database external, and a cloud block.
    tasks = by_name(Stack(cfg_of("dev")))
    failed = run_action(tasks["compose_up"])
    assert isinstance(failed, TaskFailed)
    assert "environment dev runs nothing in Compose (runtime: kubernetes; databases: external)" in str(failed)
    assert "doit deploy:dev" in str(failed)
    local = cfg_of("dev", cloud=None)
    failed = run_action(by_name(Stack(local))["compose_up"])
    assert isinstance(failed, TaskFailed) and "use an environment with `runtime: compose`" in str(failed)
    # minikube: the services run in the cluster, but Compose hosts its databases.
    assert by_name(Stack(cfg_of("minikube")))["compose_up"]["actions"] is None


def _run(env: str) -> Run:
    return Run(root=REPO, command="run", words=["compose_up"], vars={"env": env}, env=env, envs=[ENV])


def test_a_broken_environment_gives_every_public_task_its_error() -> None:
    tasks = list(ct.task_compose(_run("nosuch")))
    names = [t["basename"] for t in tasks]
    assert names == ct.PUBLIC  # the project's aliases are tasks of their own (families/aliases.py)
    failed = run_action(tasks[0])
    assert isinstance(failed, TaskFailed) and "nosuch" in str(failed)


def test_public_tasks_take_their_options(work: Path) -> None:
    tasks = {t["basename"]: t for t in ct.task_compose(_run(ENV))}
    assert [p["name"] for p in tasks["compose_down"]["params"]] == ["wipe"]
    assert [p["name"] for p in tasks["compose_logs"]["params"]] == ["service", "level", "id"]
    assert "params" in tasks["compose_up"]
    assert "params" not in tasks["_compose_env"]


def test_the_actions_run_the_stack_against_the_fakes(
    work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fakes = FakeBin(tmp_path / "fakes")
    state = tmp_path / "docker-state"
    fake_docker.install(fakes.bin_dir, state, log=fakes.log)
    fake_compose.install(fakes.bin_dir, state, log=fakes.log)
    fakes.activate(monkeypatch)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    host_ports(monkeypatch)
    stack = Stack(cfg_of())
    for name in stack.all_built():
        record = Path(".build") / ENV / "images" / f"{name}.ref"
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(f"{name}:1\n")
    tasks = by_name(stack)
    ps = run_action(tasks["compose_ps"])
    assert isinstance(ps, TaskFailed)  # nothing runs yet
    for name in ("_compose_env", "compose_up_dbs", "compose_up_services", "compose_jobs", "compose_config"):
        assert run_action(tasks[name]) is None, name
    assert ct.env_file_complete(stack)
    assert run_action(tasks["compose_ps"]) is None
    assert "service/engine" in capsys.readouterr().out
    assert run_action(tasks["compose_down"]) is None
    argvs = [c["argv"] for c in fakes.calls("docker-compose")]
    verbs = [a[a.index("--env-file") + 2] for a in argvs]
    assert verbs == ["ps", "up", "up", "run", "config", "ps", "down"]
