"""tasks/programs/docker.py against the fake `docker` first on PATH (testing/fakes): every
listing parsed into values, None when the daemon cannot answer, exact command lines."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from tasks.errors import ToolError
from tasks.programs import docker
from tasks.programs.docker import Tagged
from testing.dockerd import Daemon, daemon, fakes
from testing.harness import FakeBin

__all__ = ["daemon", "fakes"]  # the fixtures


def test_an_import_whose_tar_fails_is_an_error(daemon: Daemon, tmp_path: Path) -> None:
    # The fake daemon imports whatever stream it gets, as docker does; only tar's exit tells.
    with pytest.raises(ToolError, match="exit 2"):
        docker.import_root(tmp_path / "gone", "me/base:x")


def test_listings_are_parsed_into_values(daemon: Daemon) -> None:
    one = daemon.add_image("me/a:000000000001", created="2026-11-01 10:00:00 +0000 UTC")
    daemon.add_image("me/a:latest", iid=one)
    two = daemon.add_image("me/b:000000000002", created="2026-11-02 10:00:00 +0000 UTC")
    assert docker.image_pairs() == {
        (one, "me/a:000000000001"),
        (one, "me/a:latest"),
        (two, "me/b:000000000002"),
    }
    assert sorted(docker.image_refs() or []) == ["me/a:000000000001", "me/a:latest", "me/b:000000000002"]
    assert docker.tagged(["me/a"]) == [
        Tagged("me/a", "000000000001", one, "2026-11-01 10:00:00 +0000 UTC"),
        Tagged("me/a", "latest", one, "2026-11-01 10:00:00 +0000 UTC"),
    ]
    assert Tagged("me/a", "latest", one, "x").ref == "me/a:latest"
    assert docker.installed()


def test_container_images_with_no_containers_ask_once(daemon: Daemon) -> None:
    assert docker.container_image_ids() == set()
    assert daemon.argvs() == [["ps", "-aq", "--no-trunc"]]
    image = daemon.add_image("me/a:1")
    daemon.add_container("c1", image, state="exited")
    assert docker.container_image_ids() == {image}


def test_a_daemon_that_cannot_answer_gives_none(fakes: FakeBin) -> None:
    fakes.script("docker", "echo 'Cannot connect to the Docker daemon' >&2; exit 1\n")
    assert docker.image_refs(check=False) is None
    assert docker.compose_states("p") is None
    assert docker.published_ports("a=b", timeout=5) == set()
    assert docker.volumes("a=b") is None
    assert docker.volume_labels(["v"], "k") is None
    assert docker.health(["c"]) == {}
    with pytest.raises(ToolError):
        docker.image_refs()


def test_containers_and_volumes_by_label(daemon: Daemon) -> None:
    def labels(project: str, service: str) -> dict[str, str]:
        return {"com.docker.compose.project": project, "com.docker.compose.service": service}

    daemon.add_container("c1", "img", state="running", labels=labels("x", "a"), ports=[80])
    daemon.add_container("c2", "img", state="exited", labels=labels("x", "b"), ports=[81])
    daemon.add_container("c3", "img", state="running", labels=labels("y", "c"), ports=[82])
    # Stopped containers count for the project's states, only running ones publish ports.
    # With each container's ID and image (the status page's sign of change).
    assert docker.compose_states("x") == [
        docker.ServiceState("a", "running", "c1", "img"),
        docker.ServiceState("b", "exited", "c2", "img"),
    ]
    assert docker.published_ports("com.docker.compose.project=x", timeout=5) == {80}
    assert docker.volumes("p=x") == []


def test_images_are_removed_and_tagged(fakes: FakeBin) -> None:
    fakes.script("docker", "exit 0\n")
    docker.remove_image("r/a:1")
    docker.tag("a", "b")
    assert fakes.argvs("docker") == [["image", "rm", "r/a:1"], ["tag", "a", "b"]]


def test_volume_listings_are_parsed(fakes: FakeBin) -> None:
    fakes.script(
        "docker",
        'if [ "$2" = inspect ]; then printf "v1\\tid1\\nv2\\t\\nv3\\t<no value>\\n"; '
        'else printf "v1\\nv2\\n"; fi\n',
    )
    assert docker.volume_labels(["v1", "v2", "v3"], "k.id") == {"v1": "id1", "v2": "", "v3": ""}
    assert docker.volumes("p=x") == ["v1", "v2"]
    assert fakes.argvs("docker") == [
        ["volume", "inspect", "--format", '{{.Name}}\t{{index .Labels "k.id"}}', "v1", "v2", "v3"],
        ["volume", "ls", "-q", "--filter", "label=p=x"],
    ]


def test_a_volume_is_created_with_its_labels_and_an_existing_one_is_kept(daemon: Daemon) -> None:
    docker.create_volume("p_data", {"b": "2", "a": "1"})
    assert daemon.argvs() == [["volume", "create", "--label", "a=1", "--label", "b=2", "p_data"]]
    docker.create_volume("p_data", {"a": "other"})
    assert daemon.volume_labels("p_data") == {"a": "1", "b": "2"}
    assert docker.volume_labels(["p_data"], "b") == {"p_data": "2"}
    assert docker.volume_labels(["p_data", "gone"], "b") is None


def test_short_listing_rows_are_skipped(fakes: FakeBin) -> None:
    fakes.script("docker", "printf 'me/a\\tlatest\\tsha256:1\\nme/a\\t000000000001\\tsha256:2\\tnow\\n'\n")
    assert docker.tagged(["me/a"]) == [Tagged("me/a", "000000000001", "sha256:2", "now")]


def test_compose_states_read_each_services_health() -> None:
    # A container still starting its healthcheck (e.g. after Ctrl-C during `up --wait`), or
    # failing it, does not count as running.
    states = docker.parse_states(
        [
            "engine\trunning\tUp 1 second (health: starting)",
            "redis\trunning\tUp 2 minutes (healthy)",
            "web\trunning\tUp 1 minute (unhealthy)",
            "job\texited\tExited (0) 1 minute ago",
            "\trunning\tUp",  # no service label
            "short\trunning",
        ]
    )
    assert states == [
        docker.ServiceState("engine", "starting"),
        docker.ServiceState("redis", "running"),
        docker.ServiceState("web", "unhealthy"),
        docker.ServiceState("job", "exited"),
    ]


def test_compose_states_ask_for_every_container_of_the_project(daemon: Daemon) -> None:
    label = {"com.docker.compose.project": "p-local", "com.docker.compose.service": "redis"}
    daemon.add_container("c1", "img", state="running", labels=label, health="unhealthy")
    assert docker.compose_states("p-local") == [docker.ServiceState("redis", "unhealthy", "c1", "img")]
    assert daemon.argvs() == [
        [
            "ps",
            "-a",
            "--filter",
            "label=com.docker.compose.project=p-local",
            "--format",
            '{{.Label "com.docker.compose.service"}}\t{{.State}}\t{{.Status}}\t{{.ID}}\t{{.Image}}',
        ]
    ]


def test_published_ports_read_every_mapping_of_a_row(fakes: FakeBin) -> None:
    fakes.script(
        "docker", 'echo "0.0.0.0:6379->6379/tcp, [::]:6379->6379/tcp, 0.0.0.0:8080->80/tcp"\necho ""\n'
    )
    assert docker.published_ports("a=b", timeout=5) == {6379, 8080}


def test_health_is_read_from_dockers_health_log(daemon: Daemon) -> None:
    labels = {"com.docker.compose.project": "p", "com.docker.compose.service": "db"}
    daemon.add_container("p-db-1", "img", state="running", labels=labels, health="unhealthy")
    daemon.update_container(
        "p-db-1",
        health_log=[{"ExitCode": 0, "Output": "PONG"}, {"ExitCode": 1, "Output": "  refused\n"}],
    )
    daemon.add_container("p-web-1", "img", state="running", labels=labels)  # no healthcheck
    found = docker.health(["p-db-1", "p-web-1", "gone"])
    assert found == {"p-db-1": docker.HealthCheck("unhealthy", 1, 1, "refused")}
    assert docker.health([]) == {}
    assert daemon.argvs()[-1] == [
        "inspect",
        "--format",
        "{{.Name}}\t{{json .State.Health}}",
        "p-db-1",
        "p-web-1",
        "gone",
    ]


def test_a_health_cause_is_the_last_line_of_the_last_check() -> None:
    assert docker.HealthCheck("unhealthy", 3, 2, "a\nb\n").cause() == "exit 2: b"
    assert docker.HealthCheck("starting", 0, None, "").cause() == "(no output)"
    assert docker.HealthCheck("unhealthy", 1, 1, "x" * 300).cause(width=20) == "exit 1: xxxxxxxxx..."
    unhealthy = '{"Status":"unhealthy","FailingStreak":2,"Log":[{"ExitCode":1,"Output":"no"}]}'
    rows = f"/a\t{unhealthy}\n/b\tnull\n/c\t{{bad\n"
    assert docker.parse_health(rows) == {"a": docker.HealthCheck("unhealthy", 2, 1, "no")}


def test_port_holders_name_the_container_and_its_project(daemon: Daemon) -> None:
    labels = {"com.docker.compose.project": "shop-local", "com.docker.compose.service": "web"}
    daemon.add_container("shop-local-web-1", "img", state="running", labels=labels, ports=[8080, 8443])
    daemon.add_container("loose", "img", state="running", ports=[5432])
    daemon.add_container("stopped", "img", state="exited", ports=[9000])
    assert docker.port_holders() == {
        8080: docker.PortHolder("shop-local-web-1", "shop-local"),
        8443: docker.PortHolder("shop-local-web-1", "shop-local"),
        5432: docker.PortHolder("loose", ""),
    }


def test_a_projects_running_containers_by_service_with_the_reference_each_was_made_from(
    daemon: Daemon,
) -> None:
    labels = {"com.docker.compose.project": "x", "com.docker.compose.service": "web"}
    daemon.add_image("acme/web:t1")
    daemon.add_image("acme/api:t1")
    daemon.add_container("w1", "acme/web:t1", state="running", labels=labels)
    daemon.add_container("w2", "acme/web:t1", state="exited", labels=labels)
    daemon.add_container(
        "w3", "acme/web:t1", state="running", labels={**labels, "com.docker.compose.project": "y"}
    )
    daemon.add_container(
        "a1", "acme/api:t1", state="running", labels={**labels, "com.docker.compose.service": "api"}
    )
    assert docker.project_containers("x") == {
        "web": [docker.Running("w1", "acme/web:t1")],
        "api": [docker.Running("a1", "acme/api:t1")],
    }
    assert daemon.argvs() == [  # ps named the references: no inspect
        [
            "ps",
            "--no-trunc",
            "--filter",
            "label=com.docker.compose.project=x",
            "--format",
            '{{.ID}}\t{{.Label "com.docker.compose.service"}}\t{{.Image}}',
        ]
    ]
    assert docker.project_containers("z") == {}


def test_a_container_whose_reference_moved_to_another_image_is_named_by_inspect(daemon: Daemon) -> None:
    labels = {"com.docker.compose.project": "x", "com.docker.compose.service": "web"}
    daemon.add_image("acme/web:t1")
    daemon.add_container("w1", "acme/web:t1", state="running", labels=labels)
    daemon.add_image("acme/web:t1", iid="sha256:" + "b" * 64)  # a newer build under the same tag
    assert docker.project_containers("x") == {"web": [docker.Running("w1", "acme/web:t1")]}
    assert [a[0] for a in daemon.argvs()] == ["ps", "inspect"]


def test_copy_exec_and_restart_into_containers(daemon: Daemon, tmp_path: Path) -> None:
    daemon.add_container("w1", "img", state="running")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, text in (("app/main.py", b"print(2)\n"), ("app/lib/x.py", b"X = 1\n")):
            entry = tarfile.TarInfo(name)
            entry.size, entry.mode = len(text), 0o640
            tar.addfile(entry, io.BytesIO(text))
    docker.copy_archive("w1", buffer.getvalue(), timeout=5)
    docker.exec_in("w1", "kill -HUP 1", timeout=5)
    docker.restart(["w1"], grace=0, timeout=5)
    assert daemon.argvs()[-3:] == [
        ["cp", "-", "w1:/"],
        ["exec", "w1", "sh", "-c", "kill -HUP 1"],
        ["restart", "--time", "0", "w1"],
    ]
    files = daemon.store()["containers"]["w1"]["files"]
    assert {path: f["text"] for path, f in files.items()} == {
        "/app/main.py": "print(2)\n",
        "/app/lib/x.py": "X = 1\n",
    }
    assert files["/app/main.py"]["mode"] == "0o640"
    with pytest.raises(ToolError) as info:
        docker.copy_archive("gone", buffer.getvalue(), timeout=5)
    assert "No such container: gone" in info.value.stderr


def test_a_foreign_root_is_built_from_scratch_for_its_platform_and_tagged(
    daemon: Daemon, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "debian_version").write_text("12\n")
    image = docker.import_foreign_root(root, "me/base:bookworm-arm64", "linux/arm64")
    assert image.startswith("sha256:")
    (build,) = [a for a in daemon.argvs() if a[:1] == ["build"]]
    assert build[1:6] == ["--quiet", "--platform", "linux/arm64", "--tag", "me/base:bookworm-arm64"]
    assert daemon.platform("me/base:bookworm-arm64") == "linux/arm64"
    assert not Path(build[-1]).exists()  # the build context (the root's tar) is removed


def test_a_build_for_another_platform_says_so(daemon: Daemon, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    docker.build(
        str(tmp_path / "Dockerfile"),
        str(tmp_path),
        build_args={},
        iidfile=tmp_path / "x.iid",
        prefix="build-x",
        platform="linux/arm64",
    )
    (build,) = [a for a in daemon.argvs() if a[:1] == ["build"]]
    assert build[build.index("--platform") + 1] == "linux/arm64"
