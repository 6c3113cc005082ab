"""tasks/store/state.py: build state on disk: atomic writes, the run lock, every state path."""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks.store import state


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)  # state paths are relative to the project root
    yield tmp_path
    state.release_lock()


def test_write_atomic_sets_the_mode_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "secret.env"  # missing folders are made, parents too
    state.write_atomic(target, "A=1\n", mode=0o600)
    assert target.read_text() == "A=1\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    state.write_atomic(target, b"B=2\n")
    assert target.read_bytes() == b"B=2\n" and stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(p.name for p in target.parent.iterdir()) == ["secret.env"]


def test_a_failed_write_removes_its_temp_and_raises(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()  # renaming a file over a directory fails
    with pytest.raises(OSError):
        state.write_atomic(target, "x")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_only_write_atomic_temps_are_swept(tmp_path: Path) -> None:
    (tmp_path / "k8s" / "a").mkdir(parents=True)
    (tmp_path / "k8s" / "a" / ".x.yaml.tmp").write_text("partial")
    (tmp_path / "k8s" / "a" / "x.yaml.tmp").write_text("not ours")
    (tmp_path / "k8s" / ".hidden").write_text("keep")
    (tmp_path / "k8s" / ".dir.tmp").mkdir()
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose" / ".c.tmp").write_text("partial")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / ".o.tmp").write_text("not swept")
    removed = state.sweep_temps(tmp_path, ("k8s", "compose"))
    assert sorted(removed) == ["compose/.c.tmp", "k8s/a/.x.yaml.tmp"]
    assert (tmp_path / "k8s" / "a" / "x.yaml.tmp").exists() and (tmp_path / "k8s" / ".hidden").exists()
    assert (tmp_path / "k8s" / ".dir.tmp").is_dir() and (tmp_path / "other" / ".o.tmp").exists()
    assert [state.is_temp(Path(n)) for n in (".a.tmp", "a.tmp", ".a", ".a.tmpx")] == [
        True,
        False,
        False,
        False,
    ]


def test_built_refs_start_empty_and_collect_each_build(in_tmp: Path) -> None:
    assert state.built_refs() == set()
    state.record_built("srvthreds/engine:aaa")
    state.record_built("srvthreds/engine:bbb")
    assert state.built_refs() == {"srvthreds/engine:aaa", "srvthreds/engine:bbb"}
    assert state.built_log().read_text() == "srvthreds/engine:aaa\nsrvthreds/engine:bbb\n"


def test_the_lock_waits_for_its_holder_and_names_it(in_tmp: Path) -> None:
    lock = state.lock_file()
    lock.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import fcntl, os, sys, time\n"
                f"fd = os.open({str(lock)!r}, os.O_RDWR | os.O_CREAT)\n"
                "fcntl.flock(fd, fcntl.LOCK_EX)\n"
                "os.write(fd, b'pid 42 (`doit images`)\\n')\n"
                "print('held', flush=True)\n"
                "time.sleep(1.0)\n"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    said: list[str] = []
    started = time.monotonic()
    state.acquire_lock("doit render", waiting=said.append)
    waited = time.monotonic() - started
    holder.wait()
    holder.stdout.close()
    assert said[0] == "pid 42 (`doit images`)"
    assert waited >= 0.5  # it blocked until the holder exited
    reported = float(said[1].removeprefix("done waiting after ").removesuffix(" s"))
    assert said[1].startswith("done waiting after ") and 0.5 <= reported <= waited + 0.1
    assert lock.read_text() == f"pid {os.getpid()} (`doit render`)\n"
    state.acquire_lock("again", waiting=said.append)  # re-entrant: no wait, no rewrite
    assert len(said) == 2 and "doit render" in lock.read_text()
    state.release_lock()
    assert lock.read_text() == ""


def test_an_unheld_lock_is_taken_without_waiting(in_tmp: Path) -> None:
    said: list[str] = []
    state.acquire_lock("doit list", waiting=said.append)
    assert said == [] and "doit list" in state.lock_file().read_text()


@pytest.mark.parametrize(
    "content, damaged",
    [
        (None, False),
        ('{"render": {"deps": "x"}}', False),
        ("{}", False),
        ('{"render": 1}', True),
        ("[1, 2]", True),
        ('{"render": {"de', True),
        (b"\xff\xfe", True),
    ],
)
def test_a_damaged_dependency_file_is_moved_aside(
    tmp_path: Path, content: str | bytes | None, damaged: bool
) -> None:
    path = tmp_path / "state" / "dev.json"
    path.parent.mkdir()
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    message = state.repair_dep_file(path)
    if not damaged:
        assert message is None and path.exists() == (content is not None)
        return
    assert message is not None and "dev.json.damaged" in message and "every task is checked again" in message
    assert not path.exists() and (tmp_path / "state" / "dev.json.damaged").exists()


def test_every_state_path_has_its_own_place_below_build() -> None:
    build = state.BUILD
    per_env = {
        "images": state.images_dir("dev"),
        "minikube images": state.images_dir("dev", "minikube_images"),
        "deploy": state.deploy_dir("dev"),
        "push": state.push_dir("dev"),
        "terraform": state.terraform_dir("dev"),
        "minikube": state.minikube_dir("dev"),
    }
    for name, path in per_env.items():
        assert path.parent == build / "dev", name  # one folder per environment: `rm -rf .build/dev`
    assert len({p.name for p in per_env.values()}) == len(per_env)
    assert state.images_dir("prod").parent == build / "prod"
    shared = [
        state.dep_file("dev"),
        state.built_log(),
        state.lock_file(),
        state.logs_dir(),
        state.manifests("dev"),
        state.tf_validate_dir(),
        state.tf_validate_mode(),
        state.checkov_mode(),
        state.checkov_passed(),
    ]
    assert all(p.parts[0] == build.name for p in shared)
    # .build/checkov/ is checkov's own virtualenv (README): the tool keeps nothing there.
    assert not any(p.is_relative_to(build / "checkov") for p in shared)
    assert len(set(shared)) == len(shared) and not set(shared) & set(per_env.values())
    assert state.dep_file("dev") != state.dep_file("prod") and state.dep_file("dev").suffix == ".json"
    assert state.manifests("dev") != state.manifests("prod") and state.manifests("dev").suffix == ".yaml"


def test_recorded_refs_are_found_for_every_environment_and_daemon(in_tmp: Path) -> None:
    assert state.recorded_ref_files() == []
    for env, daemon in (("dev", "images"), ("minikube", "minikube_images")):
        folder = state.images_dir(env, daemon)
        folder.mkdir(parents=True)
        (folder / "api.ref").write_text("x")
        (folder / "api.iid").write_text("y")
    assert state.recorded_ref_files() == [
        state.images_dir("dev") / "api.ref",
        state.images_dir("minikube", "minikube_images") / "api.ref",
    ]


def test_the_bytes_are_on_disk_before_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A crash after the rename must find the whole file: flushed and fsynced first.
    target = tmp_path / "out.txt"
    synced: list[tuple[int, bool]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append((os.fstat(fd).st_size, target.exists()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    state.write_atomic(target, "0123456789")
    assert synced == [(10, False)]
    assert target.read_text() == "0123456789"


def test_write_all_atomic_writes_every_file(tmp_path: Path) -> None:
    files = {tmp_path / "a" / "one.yaml": "1\n", tmp_path / "b" / "two.yaml": "2\n"}
    state.write_all_atomic(files, mode=0o600)
    assert {p: p.read_text() for p in files} == files
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b", "one.yaml", "two.yaml"]


def test_write_all_atomic_writes_nothing_when_one_file_cannot_be_staged(tmp_path: Path) -> None:
    first = tmp_path / "one.yaml"
    first.write_text("old\n")
    (tmp_path / "blocked").write_text("a file where a folder should be")
    bad = tmp_path / "blocked" / "two.yaml"
    with pytest.raises(OSError) as info:
        state.write_all_atomic({first: "new\n", bad: "2\n"})
    assert info.value.filename == str(bad)
    assert first.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocked", "one.yaml"]  # no temp left


def test_write_all_atomic_puts_back_what_it_replaced_when_a_rename_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tmp_path / "old.yaml"
    old.write_text("old\n")
    new = tmp_path / "new.yaml"
    in_the_way = tmp_path / "dir.yaml"
    (in_the_way / "inside").mkdir(parents=True)  # a folder where a file goes: it cannot be read
    with pytest.raises(OSError) as info:
        state.write_all_atomic({old: "changed\n", new: "fresh\n", in_the_way: "x\n"}, mode=0o600)
    assert info.value.filename == str(in_the_way)
    assert old.read_text() == "old\n" and not new.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.yaml", "old.yaml"]
    # A rename that fails (an I/O error) names the file it was for, not the temp file.
    real_replace = Path.replace
    broken = tmp_path / "broken.yaml"

    def replace(self: Path, target: Path) -> Path:
        if Path(target) == broken:
            raise OSError(errno.EIO, "Input/output error", str(self))
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", replace)
    with pytest.raises(OSError) as info:
        state.write_all_atomic({old: "changed\n", broken: "x\n"})
    assert info.value.filename == str(broken) and old.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.yaml", "old.yaml"]


def test_bytes_that_cannot_be_written_leave_no_temp_and_no_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with pytest.raises(UnicodeEncodeError):
        state.write_atomic(target, "half \udcff")  # a lone surrogate has no UTF-8 bytes
    assert list(tmp_path.iterdir()) == []


def test_a_released_lock_is_free_for_another_process_and_taken_afresh(in_tmp: Path) -> None:
    state.acquire_lock("doit render", waiting=pytest.fail)
    state.release_lock()
    probe = (
        "import fcntl, os, sys\n"
        f"fd = os.open({str(state.lock_file())!r}, os.O_RDWR)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"  # raises if this process still holds it
    )
    assert subprocess.run([sys.executable, "-c", probe], cwd=in_tmp, check=False).returncode == 0
    state.acquire_lock("doit images", waiting=pytest.fail)
    assert "doit images" in state.lock_file().read_text()  # not the first run's re-entrant hold


def open_fds() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))


def test_a_longer_previous_holder_leaves_no_trace_in_the_lock_file(in_tmp: Path) -> None:
    state.lock_file().parent.mkdir(parents=True)
    state.lock_file().write_text("pid 1 (`doit " + "x" * 300 + "`)\n")
    state.acquire_lock("doit list", waiting=pytest.fail)
    assert state.lock_file().read_text() == f"pid {os.getpid()} (`doit list`)\n"


def test_a_lock_error_other_than_busy_is_raised_without_waiting(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    before = open_fds()
    said: list[str] = []
    with pytest.raises(OSError, match="No locks available"):
        state.acquire_lock("doit render", waiting=said.append)
    assert said == [] and open_fds() == before and state._HELD == {}


def test_ctrl_c_while_waiting_closes_the_lock_file(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def busy_then_interrupted(fd: int, operation: int) -> None:
        if operation & fcntl.LOCK_NB:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        raise KeyboardInterrupt

    monkeypatch.setattr(fcntl, "flock", busy_then_interrupted)
    before = open_fds()
    said: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        state.acquire_lock("doit render", waiting=said.append)
    assert said == ["another run"] and open_fds() == before and state._HELD == {}


def test_the_lock_holder_is_read_without_taking_the_lock(in_tmp: Path) -> None:
    assert state.lock_holder() is None  # no lock file yet
    state.acquire_lock("doit dev", waiting=lambda _: None)
    assert state.lock_holder() == f"pid {os.getpid()} (`doit dev`)"
    state.release_lock()
    assert state.lock_holder() is None  # given back: the line is emptied
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    state.lock_file().write_text(f"pid {gone.stdout.strip()} (`doit compose_up`)\n")
    assert state.lock_holder() is None  # a killed holder's line names a process that is gone
    state.lock_file().write_text("garbage\n")
    assert state.lock_holder() is None
