"""What bench/devloop.py measures with: the one-line change to session-agent and how long it
takes to be served, a long-running command in the background (`doit dev`, `docker compose
watch`), and one open status page (an event-stream client)."""

from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ENV = "offline"
AGENT = "http://127.0.0.1:3000/no-such-path"
MODULE = "demo/srvthreds_demo/session_agent.py"
MODULE_TEST = "demo/tests/test_session_agent.py"
PAGE_PORT = 10371  # the page's port in the bench: not the default, a person's `doit ui` may hold it
NOT_FOUND = re.compile(r'return 404, \{"error": "not found"[^}]*\}\n\n    return app')


def say(text: str) -> None:
    """A measurement as soon as it is made (stderr): a run cut short still leaves its numbers."""
    print(text, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the change


class Change:
    """Writes revision after revision of session-agent and times until each is served."""

    def __init__(self, project: Path) -> None:
        self.path = project / MODULE
        self.test = project / MODULE_TEST
        self.revision = 0
        self.wrote_at = 0.0
        self.outside = False  # also touch session-agent's test file (no sync rule): a rebuild

    def write(self) -> float:
        self.revision += 1
        body = f'return 404, {{"error": "not found", "revision": {self.revision}}}\n\n    return app'
        text, count = NOT_FOUND.subn(body, self.path.read_text())
        assert count == 1, "session-agent's 404 answer moved: update bench/devloop.py"
        started = time.perf_counter()
        self.wrote_at = time.time()  # the same moment on the wall clock (the loop's marks use it)
        if self.outside:
            self.test.write_text(self.test.read_text() + f"# revision {self.revision}\n")
        self.path.write_text(text)
        return started

    def served(self, started: float, timeout: float = 600) -> float:
        while time.perf_counter() - started < timeout:
            if revision() == self.revision:
                return time.perf_counter() - started
            time.sleep(0.05)
        raise NotServed(f"revision {self.revision} was not served within {timeout} s")

    def timed(self, action: Callable[[], object] | None = None, timeout: float = 600) -> float:
        started = self.write()
        if action is not None:
            action()
        return self.served(started, timeout)


class NotServed(Exception):
    """A change that never reached the HTTP answer in time."""


def revision() -> object:
    """The revision session-agent serves now (None: not answering, or mid-restart)."""
    try:
        with urllib.request.urlopen(AGENT, timeout=2) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        try:
            body = exc.read()
        except (OSError, http.client.HTTPException):
            return None  # the container was stopped mid-answer
    except (urllib.error.URLError, OSError, http.client.HTTPException):
        return None
    try:
        return json.loads(body or b"{}").get("revision")
    except ValueError:
        return None


# --------------------------------------------------------------------------- a background loop


class Background:
    """A long-running command (`doit dev`, `docker compose watch`) with its output in a file."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str], ready: str) -> None:
        self.log = cwd.parent / f"bg-{int(time.time() * 1000)}.txt"
        self.out = self.log.open("w")
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=self.out, stderr=subprocess.STDOUT)
        self.wait_for(ready, 0, 900)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, needle: str, after: int, timeout: float = 300) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.text()[after:].splitlines():
                if needle in line:
                    return line
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.proc.args!r} ended:\n{self.text()[-3000:]}")
            time.sleep(0.1)
        raise SystemExit(f"no {needle!r} from {self.proc.args!r}:\n{self.text()[-3000:]}")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


class EventClient:
    """One open page: reads the status page's event stream (/api/events, with the page's own
    Host) in a thread until stopped, counting the events it got."""

    def __init__(self, port: int, timeout: float = 60) -> None:
        self.events = 0
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        deadline = time.monotonic() + timeout
        while True:  # the page listens once the loop printed its address; retry briefly
            try:
                self.conn.request("GET", "/api/events", headers={"Host": f"127.0.0.1:{port}"})
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.response = self.conn.getresponse()
        assert self.response.status == 200, f"/api/events answered {self.response.status}"
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for line in self.response:
                if line.startswith(b"data:"):
                    self.events += 1
        except (OSError, http.client.HTTPException, ValueError, AttributeError):
            pass  # the loop (and its page) stopped, or `stop` closed the connection mid-read

    def stop(self) -> None:
        self.conn.close()
