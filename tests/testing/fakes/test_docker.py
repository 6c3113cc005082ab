"""Behavioural tests for the one fake `docker`, the fake `docker-compose` and the harness that
installs every fake: the semantics the product tests rely on, so a product test failing against
the fakes points at the product."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from testing import harness
from testing.fakes import compose as fake_compose
from testing.fakes.docker import FakeDocker


def run(
    *argv: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv),
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_build_is_content_addressed_and_tag_moves(fake_docker_daemon: FakeDocker, tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\n")
    (context / "app.txt").write_text("v1\n")

    def build() -> str:
        done = run(
            "docker",
            "build",
            "-f",
            str(context / "Dockerfile"),
            "--iidfile",
            str(tmp_path / "iid"),
            str(context),
        )
        assert done.returncode == 0, done.stderr
        return (tmp_path / "iid").read_text()

    first = build()
    assert build() == first  # same inputs, same ID
    (context / "app.txt").write_text("v2\n")
    second = build()
    assert second != first
    assert run("docker", "tag", first, "r/app:one").returncode == 0
    assert run("docker", "tag", second, "r/app:one").returncode == 0  # a tag names one image
    listed = run("docker", "image", "ls", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}").stdout
    assert listed == f"{second} r/app:one\n"
    assert [c["mutating"] for c in fake_docker_daemon.calls()] == [True, True, True, True, True, False]


def test_each_docker_host_is_its_own_daemon(fake_docker_daemon: FakeDocker) -> None:
    fake_docker_daemon.add_image("r/a:1")
    assert run("docker", "image", "ls").stdout == "r/a:1\n"
    assert run("docker", "image", "ls", env={"DOCKER_HOST": "fake://minikube"}).stdout == ""
    assert fake_docker_daemon.refs("fake://minikube") == []


def test_image_rm_refuses_an_image_a_container_uses(fake_docker_daemon: FakeDocker) -> None:
    used = fake_docker_daemon.add_image("r/a:1")
    fake_docker_daemon.add_image("r/b:1")
    fake_docker_daemon.add_container("c1", used)
    refused = run("docker", "image", "rm", "r/a:1")
    assert refused.returncode == 1 and "container is using its referenced image" in refused.stderr
    assert run("docker", "image", "rm", "r/b:1").returncode == 0
    assert fake_docker_daemon.refs() == ["r/a:1"]
    assert run("docker", "inspect", "--format", "{{.Image}}", "c1").stdout == used + "\n"
    assert [c["mutating"] for c in fake_docker_daemon.calls()] == [
        False,
        True,
        False,
    ]  # a failure changes nothing


def test_an_unsupported_call_fails_loudly(fake_docker_daemon: FakeDocker) -> None:
    done = run("docker", "system", "prune", "-af")
    assert done.returncode == 125 and "unsupported call" in done.stderr
    assert fake_docker_daemon.calls()[-1]["exit"] == 125


def test_compose_up_shows_in_docker_ps_and_down_volumes_removes_data(
    fake_docker_daemon: FakeDocker, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "fake-docker-bin"
    fake_compose.install(bin_dir, fake_docker_daemon.state_dir, log=fake_docker_daemon.log)
    (tmp_path / "c.yml").write_text(
        "name: proj\nservices:\n  db: {image: r/db:1}\n  api: {image: r/api:1}\nvolumes:\n  data: {}\n"
    )
    compose = ("docker-compose", "-f", str(tmp_path / "c.yml"))
    assert run(*compose, "up", "-d", "--wait", "db", env={"DB_IMAGE": "r/db:1"}).returncode == 0
    ps = run(
        "docker",
        "ps",
        "-a",
        "--filter",
        "label=com.docker.compose.project=proj",
        "--format",
        '{{.Label "com.docker.compose.service"}}\t{{.State}}\t{{.Status}}',
    )
    assert ps.stdout == "db\trunning\tUp 1 minute (healthy)\n"
    created = run("docker", "volume", "inspect", "--format", "{{.Name}} {{.CreatedAt}}", "proj_data").stdout
    assert created.startswith("proj_data ")
    assert run(*compose, "down").returncode == 0
    assert (
        run("docker", "volume", "inspect", "--format", "{{.Name}} {{.CreatedAt}}", "proj_data").stdout
        == created
    )
    assert run(*compose, "up", "-d", "db").returncode == 0
    assert run(*compose, "down", "--volumes").returncode == 0
    assert run("docker", "volume", "inspect", "proj_data").returncode == 1  # wiped
    assert run("docker", "ps", "-aq").stdout == ""
    tools = [
        (c["tool"], c["mutating"])
        for c in harness.read_calls(fake_docker_daemon.log)
        if c["tool"] == "docker-compose"
    ]
    assert tools == [("docker-compose", True)] * 4


def test_compose_up_unhealthy_fails_like_up_wait(
    fake_docker_daemon: FakeDocker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_compose.install(
        tmp_path / "fake-docker-bin", fake_docker_daemon.state_dir, log=fake_docker_daemon.log
    )
    (tmp_path / "c.yml").write_text("name: proj\nservices:\n  db: {image: r/db:1}\n")
    monkeypatch.setenv("FAKE_COMPOSE_UNHEALTHY", "db")
    done = run("docker-compose", "-f", str(tmp_path / "c.yml"), "up", "-d", "--wait", "db")
    assert done.returncode == 1 and "container proj-db-1 is unhealthy" in done.stderr
    assert fake_docker_daemon.store()["containers"]["proj-db-1"]["health"] == "unhealthy"  # it stays


def test_a_scripted_fake_is_marked_and_logs_argv_and_exit(
    fakebin: harness.FakeBin, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = fakebin.script("minikube", 'echo "args: $*"; cat; exit 7\n')
    assert harness.is_fake(path)
    fakebin.activate(monkeypatch)
    done = run("minikube", "status", "-p", "x y", stdin="from stdin\n")
    assert (done.returncode, done.stdout) == (7, "args: status -p x y\nfrom stdin\n")
    assert fakebin.calls() == [
        {"tool": "minikube", "argv": ["status", "-p", "x y"], "mutating": False, "exit": 7}
    ]
    fakebin.clear_calls()
    assert fakebin.calls() == []


def test_cp_exec_and_restart_act_on_one_container(fake_docker_daemon: FakeDocker, tmp_path: Path) -> None:
    fake_docker_daemon.add_container("c1", "img", state="running")
    source = tmp_path / "a.py"
    source.write_text("A = 1\n")
    source.chmod(0o604)  # kept as it is: the daemon copies the mode
    assert run("docker", "cp", str(source), "c1:/app/a.py").returncode == 0
    assert run("docker", "exec", "c1", "sh", "-c", "true").returncode == 0
    assert run("docker", "restart", "--time", "0", "c1").stdout == "c1\n"
    c1 = fake_docker_daemon.store()["containers"]["c1"]
    assert c1["files"] == {"/app/a.py": {"text": "A = 1\n", "mode": "0o604"}}
    assert c1["execs"] == [["sh", "-c", "true"]] and c1["restarts"] == 1
    assert [c["mutating"] for c in fake_docker_daemon.calls()] == [True, True, True]
    # Like the daemon: a read-only root refuses a copy; a stopped container refuses exec.
    fake_docker_daemon.update_container("c1", read_only=True, state="exited")
    refused = run("docker", "cp", str(source), "c1:/app/a.py")
    assert refused.returncode == 1 and "marked read-only" in refused.stderr
    assert "is not running" in run("docker", "exec", "c1", "true").stderr
    fake_docker_daemon.update_container("c1", state="running", exec_fails=["false"])
    assert run("docker", "exec", "c1", "false").returncode == 1
    assert "No such container: c2" in run("docker", "restart", "c2").stderr


def tar_of(*files: tuple[str, bytes, int, int]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data, mode, uid in files:
            entry = tarfile.TarInfo(name)
            entry.size, entry.mode, entry.uid, entry.gid = len(data), mode, uid, uid
            tar.addfile(entry, io.BytesIO(data))
    return buffer.getvalue()


def test_cp_of_a_tar_stream_unpacks_its_files_under_the_folder(fake_docker_daemon: FakeDocker) -> None:
    fake_docker_daemon.add_container("c1", "img", state="running")
    data = tar_of(("app/a.py", b"A = 1\n", 0o644, 0), ("app/lib/b.py", b"B = 2\n", 0o755, 10001))

    def cp(target: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["docker", "cp", "-", target], input=data, capture_output=True, check=False)

    assert cp("c1:/").returncode == 0
    assert cp("c1:/srv").returncode == 0
    files = fake_docker_daemon.store()["containers"]["c1"]["files"]
    assert files["/app/a.py"] == {"text": "A = 1\n", "mode": "0o644", "owner": "0:0"}
    assert files["/app/lib/b.py"] == {"text": "B = 2\n", "mode": "0o755", "owner": "10001:10001"}
    assert sorted(files) == ["/app/a.py", "/app/lib/b.py", "/srv/app/a.py", "/srv/app/lib/b.py"]
    fake_docker_daemon.update_container("c1", read_only=True)
    refused = cp("c1:/")
    assert refused.returncode == 1 and b"marked read-only" in refused.stderr


def test_ps_names_a_containers_image_by_its_reference_until_the_tag_moves(
    fake_docker_daemon: FakeDocker,
) -> None:
    fake_docker_daemon.add_image("acme/web:t1")
    fake_docker_daemon.add_container("c1", "acme/web:t1", state="running")
    fmt = ["--format", "{{.Image}}"]
    assert run("docker", "ps", *fmt).stdout == "acme/web:t1\n"
    old = fake_docker_daemon.store()["containers"]["c1"]["image"]
    fake_docker_daemon.add_image("acme/web:t1", iid="sha256:" + "c" * 64)  # rebuilt under the same tag
    assert run("docker", "ps", *fmt).stdout == old.removeprefix("sha256:")[:12] + "\n"
    assert run("docker", "ps", "--no-trunc", *fmt).stdout == old + "\n"
