"""The docker layer called directly against the fake `docker` first on PATH (testing/fakes):
tasks/programs/docker.py (the CLI as typed values), tasks/ops/docker_images.py (build, tag,
record; the debootstrap base), tasks/ops/prune.py and tasks/families/prune.py (which tags go),
tasks/ops/live.py (answers kept until forgotten), tasks/programs/debootstrap.py.

Found unguarded by the mutation benchmark (bench/mutation.py for those modules).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from doit.exceptions import TaskFailed

from tasks.config import load as config
from tasks.errors import StackError, ToolError
from tasks.families import prune as prune_tasks
from tasks.families.shared.run import Run
from tasks.ops import docker_images, prune
from tasks.ops.live import Facts
from tasks.programs import docker
from tasks.programs.docker import Tagged
from tasks.store import state
from testing.fakes import docker as fake_docker
from testing.harness import FakeBin
from testing.project import REPO

Daemon = fake_docker.FakeDocker


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeBin:
    bin_ = FakeBin(tmp_path / "fakes")
    bin_.activate(monkeypatch)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # .build/ (built.txt, recorded refs) is relative
    docker_images.LISTINGS.forget()
    return bin_


@pytest.fixture
def daemon(fakes: FakeBin, tmp_path: Path) -> Daemon:
    return fake_docker.install(fakes.bin_dir, tmp_path / "docker-state", log=fakes.log)


def context(tmp_path: Path, text: str = "FROM scratch\n") -> tuple[str, str]:
    folder = tmp_path / "ctx"
    folder.mkdir(exist_ok=True)
    (folder / "Dockerfile").write_text(text)
    (folder / "app.txt").write_text("app\n")
    return str(folder / "Dockerfile"), str(folder)


# --- tasks/ops/live.py ---------------------------------------------------------------------


def test_facts_answer_each_question_once_until_forgotten() -> None:
    asked: list[str] = []

    def answer(value: str) -> str:
        asked.append(value)
        return value

    facts = Facts()
    assert facts.ask("a", lambda: answer("1")) == "1"
    assert facts.ask("a", lambda: answer("2")) == "1"
    assert facts.ask("b", lambda: answer("3")) == "3"
    facts.forget()
    assert facts.ask("a", lambda: answer("4")) == "4"
    assert asked == ["1", "3", "4"]


# --- tasks/ops/docker_images.py ------------------------------------------------------------


def test_build_tags_with_the_content_tag_and_records_it(daemon: Daemon, tmp_path: Path) -> None:
    dockerfile, ctx = context(tmp_path)
    iid, ref = Path(".build/local/images/app.iid"), Path(".build/local/images/app.ref")
    assert docker_images.is_current(iid, ref, {}) is False  # never built
    assert daemon.calls() == []
    assert docker_images.present({}) == set()  # this run's listing, from before the build
    target = docker_images.build(
        "app",
        dockerfile=dockerfile,
        context=ctx,
        args={"B": "2", "A": "1"},
        repo="me/app",
        iid=iid,
        ref=ref,
        docker_env={},
        stage="runtime",
    )
    image_id = iid.read_text().strip()
    assert image_id.startswith("sha256:") and target == f"me/app:{image_id[7:19]}"
    assert ref.read_text() == target + "\n"
    assert not iid.with_suffix(".iid.tmp").exists()
    assert target in daemon.refs()
    assert state.built_refs() == {target}
    build = daemon.argvs()[1]
    assert build[:3] == ["build", "-f", dockerfile]
    assert build[3:9] == ["--target", "runtime", "--build-arg", "A=1", "--build-arg", "B=2"]
    assert build[-1] == ctx
    # The listing asked before the build was forgotten: the new tag is seen.
    assert docker_images.is_current(iid, ref, {}) is True
    daemon.untag(target)
    docker_images.LISTINGS.forget()
    assert docker_images.is_current(iid, ref, {}) is False


def test_is_current_asks_the_daemon_once_per_run(daemon: Daemon, tmp_path: Path) -> None:
    iid, ref = tmp_path / "x.iid", tmp_path / "x.ref"
    image = daemon.add_image("me/x:0123456789ab")
    iid.write_text(image + "\n")
    ref.write_text("me/x:0123456789ab\n")
    assert docker_images.is_current(iid, ref, {}) is True
    assert docker_images.is_current(iid, ref, {}) is True
    assert len(daemon.argvs()) == 1
    assert docker_images.is_current(iid, ref, {"DOCKER_HOST": "tcp://other:2376"}) is False  # another daemon
    ref.unlink()
    assert docker_images.is_current(iid, ref, {}) is False


def test_is_current_is_false_when_the_daemon_cannot_answer(fakes: FakeBin, tmp_path: Path) -> None:
    fakes.script("docker", "echo 'Cannot connect to the Docker daemon at unix:///x' >&2; exit 1\n")
    iid, ref = tmp_path / "x.iid", tmp_path / "x.ref"
    iid.write_text("sha256:1\n")
    ref.write_text("me/x:1\n")
    assert docker_images.is_current(iid, ref, {}) is False


DEBOOTSTRAP = 'mkdir -p "$3/etc"; echo "$2" > "$3/etc/debian_version"\n'


def test_a_debootstrap_base_is_imported_tagged_and_recorded(daemon: Daemon, fakes: FakeBin) -> None:
    fakes.script("debootstrap", DEBOOTSTRAP)
    iid, ref = Path(".build/offline/images/base.iid"), Path(".build/offline/images/base.ref")
    iid.parent.mkdir(parents=True)
    listed = docker_images.present({})  # a listing from before the import
    target = docker_images.debootstrap_base(
        "base", suite="bookworm", repo="me/base", iid=iid, ref=ref, docker_env={}
    )
    assert fakes.argvs("debootstrap")[0][:2] == ["--variant=minbase", "bookworm"]
    root = Path(fakes.argvs("debootstrap")[0][2])
    assert not root.exists()  # the root file system folder is removed
    imported = iid.read_text().strip()
    assert target == f"me/base:{imported[7:19]}" and ref.read_text() == target + "\n"
    assert {"me/base:bookworm", target} <= set(daemon.refs())
    assert state.built_refs() == {target}
    assert listed == set() and (imported, target) in docker_images.present({})


def test_a_failed_import_records_nothing(fakes: FakeBin, tmp_path: Path) -> None:
    fakes.script("debootstrap", DEBOOTSTRAP)
    fakes.script("docker", "cat > /dev/null; echo 'not an id'\n")
    iid, ref = tmp_path / "base.iid", tmp_path / "base.ref"
    with pytest.raises(StackError, match="docker import printed no image ID: 'not an id'"):
        docker_images.debootstrap_base(
            "base", suite="bookworm", repo="me/base", iid=iid, ref=ref, docker_env={}
        )
    assert not iid.exists() and not ref.exists()
    assert [argv[0] for argv in fakes.argvs("docker")] == ["import"]


def test_debootstrap_missing_is_an_install_hint(
    fakes: FakeBin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", fakes.path(base=""))
    with pytest.raises(StackError, match="`debootstrap` is not installed"):
        docker_images.debootstrap_base(
            "base", suite="bookworm", repo="me/base", iid=tmp_path / "i", ref=tmp_path / "r", docker_env={}
        )


# --- tasks/programs/docker.py ----------------------------------------------------------------


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
    assert docker.containers("a=b", "{{.ID}}") is None
    assert docker.volumes("a=b") is None
    assert docker.volume_ids(["v"]) is None
    assert docker.in_registry("me/a:1") is False
    with pytest.raises(ToolError):
        docker.image_refs()


def test_containers_and_volumes_by_label(daemon: Daemon) -> None:
    daemon.add_container("c1", "img", state="running", labels={"p": "x"})
    daemon.add_container("c2", "img", state="exited", labels={"p": "x"})
    daemon.add_container("c3", "img", state="running", labels={"p": "y"})
    assert docker.containers("p=x", "{{.ID}}") == ["c1"]
    assert docker.containers("p=x", "{{.ID}} {{.State}}", all_states=True) == ["c1 running", "c2 exited"]
    assert docker.volumes("p=x") == []
    assert docker.in_registry("me/a:1") is True


def test_login_sends_the_password_on_stdin(fakes: FakeBin) -> None:
    fakes.script("docker", 'if [ "$1" = login ]; then read -r secret; [ "$secret" = pw ] || exit 9; fi\n')
    docker.login("registry.example", "me", "pw")
    assert fakes.argvs("docker") == [["login", "--username", "me", "--password-stdin", "registry.example"]]
    docker.push("r/a:1", prefix="push")
    docker.remove_image("r/a:1")
    docker.tag("a", "b")
    assert fakes.argvs("docker")[1:] == [["push", "r/a:1"], ["image", "rm", "r/a:1"], ["tag", "a", "b"]]


# --- tasks/ops/prune.py and tasks/families/prune.py ---------------------------------------------


def tagged(repo: str, n: int, iid: str | None = None) -> Tagged:
    return Tagged(repo, f"{n:012x}", iid or f"sha256:{repo}{n}", f"2026-11-{n:02d} 10:00:00 +0000 UTC")


def test_plan_keeps_the_newest_per_repository_and_every_protected_tag() -> None:
    rows = [tagged("r/a", n) for n in (1, 4, 2, 3)] + [tagged("r/b", n) for n in (1, 2)]
    doomed = prune.plan(rows, keep=2, protected_refs=set(), used_ids=set())
    assert [t.ref for t in doomed] == ["r/a:000000000002", "r/a:000000000001"]
    assert prune.plan(rows, keep=1, protected_refs={"r/a:000000000002"}, used_ids={"sha256:r/b1"}) == [
        tagged("r/a", 3),
        tagged("r/a", 1),
    ]
    assert prune.plan(rows, keep=1, protected_refs=set(), used_ids=set(), ours={"r/a:000000000001"}) == [
        tagged("r/a", 1)
    ]
    assert prune.plan(rows, keep=4, protected_refs=set(), used_ids=set()) == []


def test_prune_refuses_to_keep_nothing(daemon: Daemon) -> None:
    cfg = config.load("local", REPO)
    with pytest.raises(StackError, match="--keep 0 would remove the newest tag too"):
        prune.prune(cfg, 0)
    assert daemon.calls() == []


def test_prune_removes_what_the_plan_picks(daemon: Daemon, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config.load("local", REPO)
    repo = cfg.image_ref("engine")
    for n in (1, 2):
        ref = f"{repo}:{n:012x}"
        daemon.add_image(ref)
        state.record_built(ref)
    prune.prune(cfg, 1)
    assert daemon.refs() == [f"{repo}:000000000002"]
    out = capsys.readouterr().out
    assert f"removed {repo}:000000000001" in out and "1 old tag(s) removed; kept the newest 1" in out
    assert prune.repositories(cfg) == sorted(
        {cfg.image_ref(n) for n in ["base", "builder", *cfg.built_images()]}
    )


def test_prune_task_reports_a_broken_environment(daemon: Daemon) -> None:
    failed = prune_tasks.prune(StackError("environments/local.yaml: bad"), 3)
    assert isinstance(failed, TaskFailed) and "environments/local.yaml: bad" in str(failed)
    assert daemon.calls() == []


def test_volume_listings_are_parsed(fakes: FakeBin) -> None:
    fakes.script(
        "docker", 'if [ "$2" = inspect ]; then printf "v1 t1\\nv2 t2\\n"; else printf "v1\\nv2\\n"; fi\n'
    )
    assert docker.volume_ids(["v1", "v2"]) == "v1 t1\nv2 t2"
    assert docker.volumes("p=x") == ["v1", "v2"]
    assert fakes.argvs("docker") == [
        ["volume", "inspect", "--format", "{{.Name}} {{.CreatedAt}}", "v1", "v2"],
        ["volume", "ls", "-q", "--filter", "label=p=x"],
    ]


def test_prune_looks_only_at_content_tags_of_the_stacks_repositories() -> None:
    rows = [tagged("r/a", n) for n in (1, 2)] + [Tagged("r/a", "latest", "sha256:l", "2026-12-01")]
    assert prune.plan(rows, keep=1, protected_refs=set(), used_ids=set()) == [tagged("r/a", 1)]
    offline = config.load("offline", REPO)
    assert "srvthreds/redis-offline" in prune.repositories(offline)
    assert offline.image_ref("redis") not in prune.repositories(offline)


def test_prune_task_prunes_and_always_runs(daemon: Daemon) -> None:
    cfg = config.load("local", REPO)
    repo = cfg.image_ref("engine")
    for n in (1, 2):
        daemon.add_image(f"{repo}:{n:012x}")
        state.record_built(f"{repo}:{n:012x}")
    assert prune_tasks.prune(cfg, 1) is None
    assert daemon.refs() == [f"{repo}:000000000002"]
    run = Run(root=REPO, command="run", words=["images_prune"], vars={}, env="local", envs=["local"])
    task = prune_tasks.task_images_prune(run)
    assert task["uptodate"] == [False] and task["task_dep"] == ["_preflight:docker"]
    assert [p["name"] for p in task["params"]] == ["keep"]


def test_build_says_what_it_builds_and_what_it_tagged(
    daemon: Daemon, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile, ctx = context(tmp_path)
    iid, ref = Path("i/app.iid"), Path("i/app.ref")
    target = docker_images.build(
        "app", dockerfile=dockerfile, context=ctx, args={}, repo="me/app", iid=iid, ref=ref, docker_env={}
    )
    out = capsys.readouterr().out
    assert f"[app] docker build -f {dockerfile} {ctx}" in out and f"[app] {target}" in out
    assert "--target" not in daemon.argvs()[0]


def test_a_second_build_writes_into_the_same_folder(daemon: Daemon, tmp_path: Path) -> None:
    dockerfile, ctx = context(tmp_path)
    for text in ("FROM scratch\n", "FROM scratch\nLABEL v=2\n"):
        Path(dockerfile).write_text(text)
        docker_images.build(
            "app",
            dockerfile=dockerfile,
            context=ctx,
            args={},
            repo="me/app",
            iid=Path("i/app.iid"),
            ref=Path("i/app.ref"),
            docker_env={},
        )
    assert len(daemon.builds()) == 2 and Path("i/app.ref").read_text() != ""


def test_debootstrap_says_it_takes_a_while(
    daemon: Daemon, fakes: FakeBin, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fakes.script("debootstrap", DEBOOTSTRAP)
    docker_images.debootstrap_base(
        "base", suite="trixie", repo="me/base", iid=tmp_path / "i", ref=tmp_path / "r", docker_env={}
    )
    assert "[base] debootstrap --variant=minbase trixie (about 30 s)" in capsys.readouterr().out


def test_a_debootstrap_that_fails_and_cleans_up_is_its_own_error(
    daemon: Daemon, fakes: FakeBin, tmp_path: Path
) -> None:
    fakes.script("debootstrap", 'rm -rf "$3"; echo "E: Failed getting release file" >&2; exit 1\n')
    with pytest.raises(ToolError, match="Failed getting release file"):
        docker_images.debootstrap_base(
            "base", suite="bookworm", repo="me/base", iid=tmp_path / "i", ref=tmp_path / "r", docker_env={}
        )
    assert daemon.calls() == []


def test_short_listing_rows_are_skipped(fakes: FakeBin) -> None:
    fakes.script("docker", "printf 'me/a\\tlatest\\tsha256:1\\nme/a\\t000000000001\\tsha256:2\\tnow\\n'\n")
    assert docker.tagged(["me/a"]) == [Tagged("me/a", "000000000001", "sha256:2", "now")]
