"""Another project (examples/guestbook): the folder doit runs in, not the tool's checkout, uses
every task from its own folder, with the tool's templates and copies of its Terraform modules."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tasks.checks import tfcheck
from tasks.cli.resolve import resolve
from tasks.families import render as render_tasks
from tasks.render import module_copies as render
from tasks.render import plan
from tasks.store import paths
from testing.fakes import docker as fake_docker
from testing.fakes.cluster import FakeCluster
from testing.project import REPO, run_doit, snapshot

EXAMPLE = REPO / "examples" / "guestbook"
GENERATED = ("compose", "k8s", "docs", "terraform")
MODULES = "terraform/modules"


def copy_example(dest: Path) -> Path:
    """The example as a user has it: its sources and committed output, no build state or secrets."""
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".build", ".env", "__pycache__"))
    return dest


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "guestbook")


def test_the_example_is_a_project_of_its_own() -> None:
    # No templates/ and no tasks/ of its own: it must use the tool's.
    assert not (EXAMPLE / "templates").exists() and not (EXAMPLE / "tasks").exists()
    assert not paths.is_tool(EXAMPLE) and paths.is_tool(REPO)
    assert paths.templates(EXAMPLE) == paths.TOOL / "templates"
    assert paths.templates(REPO) == REPO / "templates"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (Debian's nodejs package)")
def test_the_examples_own_node_tests_pass_its_metrics_text_format_among_them() -> None:
    """The guestbook's unit tests (its image's `test` stage runs them too), on this host's node:
    among them, what its hand-written /metrics page prints."""
    result = subprocess.run(
        ["node", "--test", "test/"],
        cwd=EXAMPLE / "app",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "\n# fail 0\n" in result.stdout
    for name in ("histogram buckets are cumulative and +Inf equals the count", "label values escape"):
        assert f"ok {name}" in re.sub(r"ok \d+ - ", "ok ", result.stdout), name


def test_render_from_the_example_folder_matches_its_committed_files(example: Path) -> None:
    before = snapshot(example, *GENERATED)
    assert before, "the example's generated files are committed"
    for folder in GENERATED:
        shutil.rmtree(example / folder)
    result = run_doit(example, "render")
    assert result.code == 0, result.out[-3000:]
    # Written into the example's own folder, from the tool's templates, byte for byte as committed.
    assert snapshot(example, *GENERATED) == before
    assert (example / MODULES / "README.md").is_file()
    again = run_doit(example, "render")
    assert again.code == 0 and again.executed() == []


def test_a_project_without_terraform_has_nothing_to_check(example: Path) -> None:
    # The example without its one cloud environment (and what was rendered for it).
    (example / "environments" / "dev.yaml").unlink()
    for folder in ("terraform", "compose/dev", "k8s/overlays/dev"):
        shutil.rmtree(example / folder)
    result = run_doit(example, "tf_validate")
    assert result.code == 0, result.out[-3000:]
    assert "no terraform/ in this project" in result.out
    fmt = run_doit(example, "tf_fmt", "fix=1")  # a fix run always runs
    assert fmt.code == 0 and "no terraform/ in this project" in fmt.out, fmt.out[-3000:]
    # Recorded as done: there is nothing it could check later.
    assert run_doit(example, "tf_validate").executed() == []


def test_the_example_comes_up_on_the_fake_minikube(
    example: Path, fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its minikube environment, as written (docker-env, PostgreSQL in the cluster), on the fakes."""
    assert fake_cluster.bin_dir is not None
    fake_docker.install(fake_cluster.bin_dir, tmp_path / "fake-docker")
    monkeypatch.setenv("FAKE_DOCKER_HOST", "fake://minikube")
    result = run_doit(example, "minikube_up")
    assert result.code == 0, result.out[-3000:]
    cluster = FakeCluster(fake_cluster.state_dir, profile="guestbook")
    for kind, name in (
        ("Deployment", "api"),
        ("Deployment", "worker"),
        ("StatefulSet", "postgres"),
        ("Job", "migrate"),
    ):
        obj = cluster.get(kind, name, "guestbook")
        assert obj is not None, (kind, name)
        image = obj["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image == (example / f".build/minikube/minikube_images/{name}.ref").read_text().strip()
    worker = cluster.get("Deployment", "worker", "guestbook")
    assert worker is not None and worker["spec"]["replicas"] == 2
    secret = cluster.get("Secret", "guestbook-secrets", "guestbook")
    assert secret is not None and set(secret["stringData"]) == {"POSTGRES_PASSWORD"}
    assert "port-forward svc/api 8380:8080" in result.out


def test_a_tool_without_its_templates_says_how_to_install_it(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a non-editable install looks like: the package without the checkout around it.
    site = tmp_path / "site-packages"
    site.mkdir()
    (site / "tasks").symlink_to(paths.TOOL / "tasks")
    monkeypatch.setattr(paths, "TOOL", site)
    result = run_doit(example, "render")
    assert result.code != 0
    assert "stackbuild's templates are not where the installed tool keeps them" in result.out, result.out[
        -2000:
    ]
    assert "pip install -e <stackbuild checkout>" in result.out and "Traceback" not in result.out


# --------------------------------------------------------------------------- Terraform modules


def module_sources(terraform: Path) -> dict[str, set[str]]:
    """environment -> the module folders (names under terraform/modules) its root calls."""
    out: dict[str, set[str]] = {}
    for env_dir in tfcheck.environment_dirs(terraform):
        calls = tfcheck.blocks(env_dir / "main.tf", "module").values()
        out[env_dir.name] = {str(call["source"]).removeprefix("../../modules/") for call in calls}
    return out


def module_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_the_example_roots_call_only_its_own_copies_of_the_tools_modules() -> None:
    terraform = EXAMPLE / "terraform"
    sources = module_sources(terraform)
    assert "dev" in sources, "the example has a cloud environment"
    called = set().union(*sources.values())
    assert "rds-postgres" in called and not called & {"mongodb-atlas", "redis-cloud"}
    # Every call resolves inside the example, and the copies are exactly what is called.
    copies = {p.name for p in (terraform / "modules").iterdir() if p.is_dir()}
    assert copies == called
    for name in called:
        copy, tool = module_files(terraform / "modules" / name), module_files(paths.TOOL / MODULES / name)
        assert copy == tool, f"{MODULES}/{name} is not byte for byte the tool's"
    # The copies are all the example's Terraform needs: its structural checks pass.
    assert tfcheck.all_problems(terraform)[0] == []


def test_a_copy_no_environment_calls_is_removed_and_an_edited_copy_restored(example: Path) -> None:
    modules = example / MODULES
    (modules / "eks" / "main.tf").write_text("# edited by hand\n")
    # A second cloud environment that also calls rds-postgres; dev stops calling it.
    dev = example / "environments" / "dev.yaml"
    (example / "environments" / "qa.yaml").write_text(
        dev.read_text()
        .replace("guestbook-dev", "guestbook-qa")
        .replace("create_shared: true", "create_shared: false")
    )
    mine = modules / "mine"  # a team's own module: never touched
    mine.mkdir()
    (mine / "main.tf").write_text("# ours\n")
    dev.write_text(
        re.sub(r"postgres: \{module: rds-postgres[^}]*\}", "postgres: {module: external}", dev.read_text())
    )
    result = run_doit(example, "render")
    assert result.code == 0, result.out[-3000:]
    assert module_files(modules / "eks") == module_files(paths.TOOL / MODULES / "eks")
    assert (modules / "rds-postgres" / "main.tf").is_file(), "qa still calls it"
    assert "| `rds-postgres` | qa |" in (modules / "README.md").read_text()
    (example / "environments" / "qa.yaml").unlink()
    shutil.rmtree(example / "terraform" / "environments" / "qa")
    result = run_doit(example, "render")
    assert result.code == 0, result.out[-3000:]
    assert not (modules / "rds-postgres").exists(), "no environment calls it any more"
    assert "removed terraform/modules/rds-postgres/main.tf" in result.out
    assert "rds-postgres" not in (modules / "README.md").read_text()
    assert (mine / "main.tf").read_text() == "# ours\n"
    copies = {p.name for p in modules.iterdir() if p.is_dir()} - {"mine"}
    assert module_sources(example / "terraform")["dev"] == copies


def test_only_a_project_outside_the_tools_checkout_gets_copies(example: Path, project: Path) -> None:
    def subtasks(root: Path) -> list[str]:
        return [task["name"] for task in render_tasks.task_render(resolve(["list"], root))]

    assert "terraform-modules" in subtasks(example)
    assert "terraform-modules" not in subtasks(REPO)
    assert plan.terraform_modules not in plan.producers(REPO)
    # A copy of the tool renders its own terraform/modules, never over them.
    before = snapshot(project, MODULES)
    result = run_doit(project, "render")
    assert result.code == 0, result.out[-3000:]
    assert snapshot(project, MODULES) == before and not (project / render.MODULES_README).exists()


# --------------------------------------------------------------------------- database build folders

CACHE = """\
databases:
  cache:
    image: guestbook/redis
    build: docker/redis
    port: 6379
    env_var: CACHE_ADDR
    healthcheck: [redis-cli, ping]
    data_dir: /data
"""


def add_cache(example: Path, build: str) -> None:
    """A second database, built from one of the tool's generic folders, in every environment."""
    stack = example / "environments" / "stack.yaml"
    stack.write_text(stack.read_text().replace("databases:\n", CACHE.replace("docker/redis", build), 1))
    for env, where in {
        "local": "compose",
        "offline": "compose",
        "minikube": "compose",
        "dev": "disabled",
    }.items():
        path = example / "environments" / f"{env}.yaml"
        path.write_text(
            re.sub(
                r"placement: \{postgres: (\w+)\}",
                rf"placement: {{postgres: \1, cache: {where}}}",
                path.read_text(),
            )
        )


def test_a_database_builds_from_a_managed_copy_of_the_tools_folder(example: Path) -> None:
    add_cache(example, "docker/redis")
    result = run_doit(example, "render")
    assert result.code == 0, result.out[-3000:]
    tool = paths.TOOL / "docker"
    assert (example / "docker/redis/Dockerfile").read_bytes() == (tool / "redis/Dockerfile").read_bytes()
    assert (
        "| `docker/redis/` | cache: local, minikube, offline |" in (example / "docker/README.md").read_text()
    )
    assert (example / "docker/postgres/Dockerfile").is_file()  # the example's own folder: untouched
    # An edited copy is written back; a second render then changes nothing.
    (example / "docker/redis/Dockerfile").write_text("FROM edited\n")
    assert "wrote docker/redis/Dockerfile" in run_doit(example, "render").out
    assert (example / "docker/redis/Dockerfile").read_bytes() == (tool / "redis/Dockerfile").read_bytes()
    assert run_doit(example, "render").executed() == []
    # Another folder of the tool: the old copy goes, the new one comes with its modes.
    stack = example / "environments" / "stack.yaml"
    stack.write_text(stack.read_text().replace("build: docker/redis", "build: docker/rabbitmq"))
    result = run_doit(example, "render")
    assert result.code == 0, result.out[-3000:]
    assert "removed docker/redis/Dockerfile" in result.out and not (example / "docker/redis").exists()
    assert (example / "docker/rabbitmq/entrypoint.sh").stat().st_mode & 0o111
    # No database builds from a copy any more: copies and README go, the project's own stay.
    stack.write_text(stack.read_text().replace("build: docker/rabbitmq", "build: docker/postgres"))
    result = run_doit(example, "render")
    assert result.code == 0, result.out[-3000:]
    assert sorted(p.name for p in (example / "docker").iterdir()) == ["Dockerfile", "postgres"]


def test_a_projects_own_folder_with_a_tool_name_is_never_overwritten(example: Path) -> None:
    own = example / "docker" / "redis"
    own.mkdir()
    (own / "Dockerfile").write_text("FROM ours\n")
    add_cache(example, "docker/redis")
    result = run_doit(example, "render")
    assert result.code == 0, result.out[-3000:]
    assert (own / "Dockerfile").read_text() == "FROM ours\n"
    assert not (example / "docker" / "README.md").exists()


def test_the_tools_checkout_gets_no_build_copies(project: Path) -> None:
    assert plan.docker_builds not in plan.producers(REPO)
    before = snapshot(project, "docker")
    result = run_doit(project, "render")
    assert result.code == 0, result.out[-3000:]
    assert snapshot(project, "docker") == before and not (project / "docker" / "README.md").exists()


def test_a_module_of_the_teams_own_where_a_copy_would_go_is_never_removed_or_replaced(example: Path) -> None:
    modules = example / MODULES
    # Named like a tool module no environment calls: the team's, so render leaves it.
    atlas = modules / "mongodb-atlas" / "main.tf"
    atlas.parent.mkdir()
    atlas.write_text("# our own atlas module\n")
    result = run_doit(example, "render")
    assert result.code == 0, result.out[-3000:]
    assert atlas.read_text() == "# our own atlas module\n"
    # Where a copy must go but the folder is not one render made (its README does not list it):
    # render refuses, naming the file, and changes nothing.
    readme = modules / "README.md"
    readme.write_text(readme.read_text().replace("| `rds-postgres` | dev |\n", ""))
    own = modules / "rds-postgres" / "main.tf"
    own.write_text("# our own postgres module\n")
    before = snapshot(example, *GENERATED)
    refused = run_doit(example, "render")
    assert refused.code == 1, refused.out[-3000:]
    assert (
        "terraform/modules/rds-postgres/main.tf was not made by render, but a cloud environment needs "
        "the tool's module rds-postgres there: refusing to replace it" in refused.out
    )
    assert "Traceback" not in refused.out
    assert snapshot(example, *GENERATED) == before
