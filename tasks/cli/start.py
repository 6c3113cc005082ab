"""Process start-up: resolve the run (or end it with the reason), then make it safe to execute.

One run at a time per checkout (the run lock, which commands that only read never take);
what a killed run left is swept; doit's JSON database is written atomically; a damaged
database is moved aside with a note.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tasks.cli import exits
from tasks.cli.resolve import resolve
from tasks.config import load as config
from tasks.errors import StackError
from tasks.families.shared.run import Run
from tasks.output import console
from tasks.render import plan
from tasks.store import images, paths, state

# Commands that only read: they never wait for (or take) the run lock.
READ_ONLY = ("list", "info", "help", "dumpdb", "tabcompletion", "taskgraph")
# Where a killed run may have left a half-written temp file (swept while holding the lock).
SWEPT = (
    "k8s",
    "compose",
    "terraform",
    str(state.BUILD / "state"),
    str(state.BUILD / "manifests"),
    str(state.BUILD / "memo"),
)


def start(argv: list[str], root: Path) -> Run:
    """What dodo.py calls: resolve (or report and exit), then make the run safe to execute."""
    config.forget()  # a run reads the configuration as the disk has it now
    plan.forget()  # and works out again what render will make and remove
    paths.forget_listings()  # and walks the folders task creators list again
    images.forget_digests()  # and reads the build contexts again
    with exits.handled():
        run = resolve(argv, root)
    exits.install()  # again: idempotent, and dodo.py may not have called it
    install_atomic_db()
    if run.command in READ_ONLY:
        exits.quiet_broken_pipe()
    try:  # (doit_config makes the state folder; here, a .build in the way is one clear error)
        if run.command not in READ_ONLY:
            # No task has started while it waits: Ctrl-C says that, not "the running task ...".
            with exits.handled(interrupted=exits.NOTHING_RAN):
                state.acquire_lock(" ".join(["doit", *argv]), waiting=say_waiting)
            state.sweep_temps(root, SWEPT)
        note = state.repair_dep_file(run.dep_file())
    except OSError as exc:  # a file named .build, a folder named run.lock, ...
        exits.fatal(
            StackError(
                f"cannot use the build state folder {state.BUILD}/: {exc}",
                fix=f"remove what is in the way (`rm -rf {state.BUILD}` is always safe), then run again",
            )
        )
    if note:
        console.note(note)
    return run


def say_waiting(holder: str) -> None:
    """What a second run says while it waits for the lock (and once it has it)."""
    if holder.startswith("done"):
        console.say(f"  {holder}")
    else:
        console.say(f"Another run holds this checkout: waiting for {holder} to finish (Ctrl-C to give up)...")


def install_atomic_db() -> None:
    """doit 0.37 writes its JSON database in place, so a kill mid-write truncates it:
    route its `dump` through `state.write_atomic` (one class attribute, set once)."""
    from doit.dependency import JsonDB

    if getattr(JsonDB.dump, "stackbuild", False):
        return

    def dump(self: Any) -> None:
        state.write_atomic(Path(self.name), self.codec.encode(self._db))

    dump.stackbuild = True  # type: ignore[attr-defined]
    JsonDB.dump = dump
