"""A real registry for tests: Debian's `docker-registry` (the CNCF distribution server) on
127.0.0.1 at a free port, its storage under the test's tmp folder, stopped whatever happens.

Import the fixture by name (`from testing.registry import registry`) and list it in the test
module's `__all__`. The address is `Registry.host` (`127.0.0.1:<port>`): Docker and skopeo
treat the loopback as plain HTTP, so no certificate is needed.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PROGRAM = "docker-registry"
START_PATIENCE = 30.0
CONFIG = """\
version: 0.1
log: {{level: warn, accesslog: {{disabled: true}}}}
storage:
  filesystem: {{rootdirectory: {root}}}
  delete: {{enabled: true}}
http:
  addr: 127.0.0.1:{port}
"""


@dataclass
class Registry:
    host: str  # 127.0.0.1:<port>
    storage: Path
    process: subprocess.Popen[bytes]
    log: Path

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def up(self) -> bool:
        try:
            with urllib.request.urlopen(self.url("/v2/"), timeout=2) as answer:
                return bool(answer.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def stop(self) -> None:
        """Stop the server (idempotent): SIGTERM, then SIGKILL after 10 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(folder: Path) -> Iterator[Registry]:
    """A running registry storing under `folder`; stopped on the way out, whatever happened."""
    exe = shutil.which(PROGRAM)
    if exe is None:
        pytest.skip(f"{PROGRAM} is not installed (Debian: apt-get install docker-registry; .ci/run does)")
    folder.mkdir(parents=True, exist_ok=True)
    for attempt in range(3):  # a free port can be taken between asking and binding
        port = free_port()
        config = folder / "config.yml"
        config.write_text(CONFIG.format(root=folder / "storage", port=port))
        log = folder / "registry.log"
        with log.open("wb") as out:
            process = subprocess.Popen([exe, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT)
        reg = Registry(f"127.0.0.1:{port}", folder / "storage", process, log)
        try:
            deadline = time.monotonic() + START_PATIENCE
            while not reg.up() and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if reg.up():
                yield reg
                return
        finally:
            reg.stop()
        if attempt == 2:
            raise AssertionError(f"{PROGRAM} did not start:\n{log.read_text()[-2000:]}")


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    with serving(tmp_path / "registry") as reg:
        yield reg
