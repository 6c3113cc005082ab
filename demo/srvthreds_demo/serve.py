"""Run a long-lived service in a child process, and start a new child from the code on disk
on SIGHUP, without restarting the container.

Live sync (`doit dev`, `services.<name>.sync` in environments/offline.yaml) copies an edited
module into the running container and then runs the rule's restart, `kill -HUP 1`. This
process is PID 1: it imports only the standard library and the client libraries (which a
sync never changes), so a new child costs a fork and the import of the demo's own modules,
about 50 ms, where a container restart costs Docker's restart (~0.6 s) and a new Python with
its libraries (~0.5 s under the container's CPU limit).

- A child that ends before any SIGHUP ends this process with its exit code, as the service
  alone would (128+N for a child killed by signal N, as a shell reports it): the container's
  restart policy (or Kubernetes) decides what follows.
- After a SIGHUP, a child that ends (code that fails to import, say) is logged and the
  process waits for the next SIGHUP: the health check reports the service down, and the
  next save that fixes the code starts it again.
- SIGTERM or SIGINT is passed on to the child, which gets GRACE seconds to stop (a second
  one, or the end of the grace, kills it); this process ends with the child's exit code.
- Orphans (PID 1 inherits them) are reaped whatever the state, so none stays a zombie.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import time
import traceback
import types
from collections.abc import Callable, Iterable

PACKAGE = __package__ or "srvthreds_demo"
WATCHED = {signal.SIGHUP, signal.SIGTERM, signal.SIGINT, signal.SIGCHLD}
# Every environment runs its services under this process, so production pods keep their
# graceful shutdown: shorter than Compose's 10 s and Kubernetes' 30 s before their SIGKILL,
# so that the child is killed (and its exit code kept) by us, not with the whole container.
GRACE = 8.0


def say(text: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} serve: {text}", file=sys.stderr, flush=True)


def fresh(name: str) -> types.ModuleType:
    """The module `name` as the disk has it now: every module of the package but this one
    and the package itself is imported again (a synced change to the shared code counts)."""
    keep = {PACKAGE, __name__}
    for loaded in [m for m in sys.modules if m.startswith(PACKAGE + ".") and m not in keep]:
        del sys.modules[loaded]
    importlib.invalidate_caches()
    return importlib.import_module(name)


def run_main(name: str) -> object:
    """What a child runs: the module's main(), imported fresh."""
    return fresh(name).main()


Main = Callable[[str], object]


def run_child(name: str, main: Main) -> int:
    """In the child: default signals, then `main`; its exit code (1 for any failure)."""
    for sig in WATCHED:
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, WATCHED)
    try:
        result = main(name)
        return result if isinstance(result, int) else 0
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 (any failure of the service: report it, end the child)
        traceback.print_exc()
        return 1


def start(name: str, main: Main) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover (runs in the child, which never returns here)
        code = 1
        try:
            code = run_child(name, main)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return pid


def exit_code(status: int) -> int:
    """A wait status as a shell reports it: 128+N for a child ended by signal N.

    Raising N on ourselves instead would not work: the kernel drops a signal without a
    handler sent to a namespace's PID 1 (SIGKILL from inside included), so we would live on.
    `sys.exit(-N)` (what waitstatus_to_exitcode gives) would exit 256-N, naming no signal."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def stop(pid: int) -> int:
    """End the child now and reap it (its listening socket is closed once it is reaped); its
    exit code. A reload does not wait: the new child needs the port, and reloads are dev only."""
    try:
        os.kill(pid, signal.SIGKILL)
        return exit_code(os.waitpid(pid, 0)[1])
    except (ProcessLookupError, ChildProcessError):
        return 128 + signal.SIGKILL


def ended(pid: int) -> int | None:
    """Reap every ended child (PID 1 inherits orphans); the exit code of `pid` if it ended.
    A pid of 0 (no child runs) still reaps: one SIGCHLD can stand for several children."""
    code = None
    while True:
        try:
            done, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return code
        if done == 0:
            return code
        if done == pid:
            code = exit_code(status)


def shutdown(pid: int, sig: int) -> int:
    """Pass `sig` on to the child, give it GRACE seconds, then kill it; its exit code."""
    if not pid:
        return 0  # stopped while waiting for a fixed save: nothing runs, nothing failed
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline, why = time.monotonic() + GRACE, f"within {GRACE:g} s"
    while (left := deadline - time.monotonic()) > 0:
        info = signal.sigtimedwait(WATCHED, left)
        if info is None:
            break
        if info.si_signo == signal.SIGCHLD:
            code = ended(pid)
            if code is not None:
                return code
        elif info.si_signo != signal.SIGHUP:
            # Asked again (a second Ctrl-C): the person will not wait out the grace.
            why = f"before a second {signal.Signals(info.si_signo).name}"
            break
        # A SIGHUP now is dropped: a new child would only be stopped in turn.
    say(f"the child (pid {pid}) did not stop {why}; killing it")
    return stop(pid)


def forever(name: str, *, preload: Iterable[str] = (), main: Main = run_main) -> int:
    """Run module `name`'s main() (or `main(name)`) in a child until SIGTERM or SIGINT; a new
    child on SIGHUP. `preload`: libraries imported once here, so that children start with them."""
    # Blocked first: a signal during the imports (or any fork) waits for sigwait instead of
    # ending this process (outside a container) or being lost (PID 1 ignores it unhandled).
    # Pending signals are not inherited by a fork, and standard signals coalesce, so two
    # SIGHUPs back to back are one or two reloads, each from the disk as it is then.
    signal.pthread_sigmask(signal.SIG_BLOCK, WATCHED)
    for library in preload:
        with contextlib.suppress(ImportError):  # the child reports it, if it needs it
            importlib.import_module(library)
    try:
        pid, reloaded = start(name, main), False
    except OSError as exc:  # no process left to make (EAGAIN, ENOMEM): end as a failed start
        say(f"{name} could not be started: {exc}")
        return 1
    while True:
        sig = signal.sigwait(WATCHED)
        if sig == signal.SIGCHLD:
            code = ended(pid)
            if code is None:
                continue
            if not reloaded:
                return code
            say(f"{name} ended with {code}; waiting for the next SIGHUP (a fixed save)")
            pid = 0
        elif sig == signal.SIGHUP:
            if pid:
                stop(pid)
            pid, reloaded = 0, True
            try:
                pid = start(name, main)
            except OSError as exc:  # EAGAIN, ENOMEM: like a failed reload, wait for the next
                say(f"{name} could not be started again ({exc}); waiting for the next SIGHUP")
                continue
            say(f"{name} started again from the code on disk (pid {pid})")
        else:
            return shutdown(pid, sig)
