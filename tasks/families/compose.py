"""doit tasks: run one environment's stack with Docker Compose (the roadmap's phase 1).

    doit compose_up env=offline      databases, then services, then the one-shot jobs
    doit compose_down [wipe=1]       stop everything; wipe=1 also deletes the data volumes

Every call goes through `docker-compose --project-directory compose/<env> -f <db> -f
<services> --env-file compose/<env>/.env`, with each built image's content reference
passed as <NAME>_IMAGE (images.image_var), read from the image contract
(.build/<env>/images/<name>.ref).

Incremental: an up task is up to date when its inputs (compose files, .ref files, .env;
md5 via file_dep) are unchanged AND its containers are running (one `docker ps`, shared
by all tasks of a run). The jobs re-run when their inputs change or the data volumes
were recreated (`compose_down wipe=1`; tasks/ops/compose_volumes.py says how that is
known). doit records a task only once its actions succeeded, so an interrupted `up` is
simply run again next time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from tasks.errors import StackError
from tasks.families.shared.creators import failing, failing_family, user_errors
from tasks.families.shared.options import LOG_FILTERS, Option
from tasks.families.shared.registry import creator, selected
from tasks.families.shared.run import Run
from tasks.ops import compose_volumes
from tasks.ops.compose import Live, down, ensure_env_file, env_names, run_hooks, show_config, show_logs
from tasks.ops.compose_jobs import run_job
from tasks.ops.compose_stack import Stack
from tasks.ops.targets.compose import converge_step, show_status
from tasks.store import envfile

TaskDict = dict[str, Any]
# Docker and docker-compose are checked (tasks/families/doctor.py) before anything starts.
PREFLIGHT = "_preflight:compose"


# --- Tasks ---------------------------------------------------------------------------


def action(func: Callable[..., None], *args: Any) -> tuple[Callable[..., Any], list[Any]]:
    return (user_errors(func), list(args))


def images_for(stack: Stack, names: list[str]) -> list[str]:
    """The image tasks (`images:<name>`, tasks/families/images.py) these containers need."""
    return [f"images:{n}" for n in stack.built(names)]


def inputs(stack: Stack, names: list[str]) -> list[str]:
    return [*stack.files, stack.env_file, *stack.ref_files(names)]


def env_file_complete(stack: Stack) -> bool:
    path = Path(stack.env_file)
    try:
        # A link, a file others can read or a line Compose cannot read is not complete either:
        # ensure_env_file then says why.
        envfile.check_private(path)
        return path.exists() and set(stack.cfg.secrets) <= env_names(path)
    except StackError:
        return False


def containers_running(live: Live, names: list[str]) -> bool:
    return live.running(names)


def env_task(stack: Stack) -> TaskDict:
    return {
        "basename": "_compose_env",
        "doc": "Create compose/<env>/.env with random secrets if missing (never overwritten).",
        "actions": [action(ensure_env_file, stack)],
        "targets": [stack.env_file],
        "uptodate": [(env_file_complete, [stack])],
    }


def up_task(
    stack: Stack, live: Live, basename: str, names: list[str], what: str, doc: str, after: list[str]
) -> TaskDict:
    return {
        "basename": basename,
        "doc": doc,
        "actions": [action(converge_step, stack, live, what)],
        "file_dep": inputs(stack, names),
        "task_dep": [PREFLIGHT, "_compose_env", *images_for(stack, names), *after_build(stack), *after],
        # Inputs unchanged (file_dep) is not enough: the containers must also be running.
        "uptodate": [(containers_running, [live, names])],
    }


def jobs_task(stack: Stack, live: Live) -> TaskDict:
    jobs = stack.jobs()

    def volumes_unchanged(task: Any, values: dict[str, Any]) -> bool:
        # Recreated volumes (compose_down wipe=1) mean the job's work is gone: run it again.
        # Their identity is an id the tool labelled them with, never a time data writes move.
        current = compose_volumes.identity(stack)
        task.value_savers.append(partial(dict, volumes=current))
        return compose_volumes.unchanged(values.get("volumes"), current)

    return {
        "basename": "compose_jobs",
        "doc": "Run the one-shot jobs once; again only when their images, compose files or .env change.",
        "actions": [action(run_job, stack, live, job) for job in jobs],
        "file_dep": inputs(stack, jobs),
        # After the services (the order of compose_up): doit only orders through task_dep.
        "task_dep": [
            PREFLIGHT,
            "_compose_env",
            *images_for(stack, jobs),
            *after_build(stack),
            "compose_up_dbs",
            "compose_up_services",
        ],
        "uptodate": [volumes_unchanged],
    }


def hook_tasks(stack: Stack) -> list[TaskDict]:
    # Hooks run each time compose_up runs (like npm pre/post scripts): keep them idempotent.
    tasks = []
    for stage in ("pre_build", "post_build"):
        if stack.cfg.hooks[stage]:
            # doit orders only through task_dep, never by list position: post waits for the build.
            after = ["images"] if stage == "post_build" else []
            tasks.append(
                {
                    "basename": f"_compose_{stage}",
                    "doc": f"Run hooks.{stage} of the environment file.",
                    "actions": [action(run_hooks, stack, stage)],
                    "uptodate": [False],
                    "task_dep": after,
                }
            )
    return tasks


def after_build(stack: Stack) -> list[str]:
    """What every up step waits for beyond its own images: the post_build hooks, if any."""
    return ["_compose_post_build"] if stack.cfg.hooks["post_build"] else []


def full_up_task(stack: Stack) -> TaskDict:
    # pre_build hooks come first: every image task depends on them (tasks/families/images.py),
    # and compose_up names them too, so the order reads here as it runs.
    steps = [
        PREFLIGHT,
        *(["_compose_pre_build"] if stack.cfg.hooks["pre_build"] else []),
        "images",
        *after_build(stack),
    ]
    return {
        "basename": "compose_up",
        "doc": "Build images, start databases, then services, then the jobs (env=<name>).",
        "actions": None,
        "task_dep": [*steps, "compose_up_dbs", "compose_up_services", "compose_jobs"],
    }


def nothing_to_run(stack: Stack) -> TaskDict:
    """compose_up of an environment that runs nothing in Compose (a cloud one): it would build
    images and then start nothing, so it fails and says where the environment runs."""
    cfg = stack.cfg
    return failing(
        StackError(
            f"environment {stack.env} runs nothing in Compose (runtime: {cfg.runtime}; databases: "
            f"{', '.join(sorted({d.placement for d in cfg.databases.values()}))})",
            fix=f"deploy it with `doit deploy:{stack.env}`"
            if cfg.cloud is not None
            else "use an environment with `runtime: compose`, or place a database in compose",
        ),
        basename="compose_up",
        doc="Build images, start databases, then services, then the jobs (env=<name>).",
    )


def always(
    basename: str,
    doc: str,
    func: Callable[..., None],
    stack: Stack,
    *args: Any,
    needs_env: bool = False,
    reads_files: bool = False,
) -> TaskDict:
    task: TaskDict = {
        "basename": basename,
        "doc": doc,
        "actions": [action(func, stack, *args)],
        "uptodate": [False],
        "task_dep": ["_compose_env"] if needs_env else [],
    }
    if reads_files:
        # The Compose files are render's targets: as a file_dep, doit renders them first, so
        # what is shown is never a stale or missing file.
        task["file_dep"] = list(stack.files)
    return task


# The family's public tasks: the command line and `doit list` know them from here.
PUBLIC = [
    "compose_up",
    "compose_up_dbs",
    "compose_up_services",
    "compose_jobs",
    "compose_down",
    "compose_ps",
    "compose_logs",
    "compose_config",
]
WIPE = Option("wipe", bool, False, "also delete the data volumes")


def stack_tasks(stack: Stack) -> Iterator[TaskDict]:
    live = Live(stack.project)  # one `docker ps` per doit run, shared by every up task
    yield env_task(stack)
    yield from hook_tasks(stack)
    yield up_task(
        stack,
        live,
        "compose_up_dbs",
        stack.dbs(),
        "databases",
        "Start the Compose databases and wait until they are healthy (env=<name>).",
        [],
    )
    yield up_task(
        stack,
        live,
        "compose_up_services",
        stack.services(),
        "services",
        "Start the services after their databases; wait until healthy (env=<name>).",
        ["compose_up_dbs"],
    )
    yield jobs_task(stack, live)
    yield full_up_task(stack) if stack.dbs() or stack.services() or stack.jobs() else nothing_to_run(stack)
    yield always(
        "compose_down", "Stop and remove the stack; data volumes are kept unless --wipe.", down, stack, live
    )
    yield always(
        "compose_ps",
        "Table per service: desired, ready, image, applied, ok/stale/failed; fails unless all are ok.",
        show_status,
        stack,
    )
    yield always(
        "compose_logs",
        "Show the logs of the stack's containers (service=, level=, id= filter them).",
        show_logs,
        stack,
    )
    yield always(
        "compose_config",
        "Print the effective Compose configuration (secrets masked).",
        show_config,
        stack,
        needs_env=True,
        reads_files=True,
    )


@creator(
    *selected(*PUBLIC, options={"compose_down": (WIPE,), "compose_logs": LOG_FILTERS}),
    needs=("_preflight", "images", "render"),
)
def task_compose(run: Run) -> Iterator[TaskDict]:
    """Run the stack with Docker Compose: compose_up, compose_down, compose_ps, ... (env=<name>)."""
    # One creator for every task (doit's `basename`), so they share one Stack and one Live.
    cfg = run.try_config(run.env_for("compose_up"))
    if isinstance(cfg, StackError):
        yield from failing_family(PUBLIC, cfg)
    else:
        for task in stack_tasks(Stack(cfg)):
            yield run.with_params(task)
