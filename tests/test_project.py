"""A project is the folder doit runs in, not the tool's checkout: tasks/project.py and
tasks/paths.py let another stack (examples/guestbook) use every task from its own folder."""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from tasks import paths, project
from testing.fakes import docker as fake_docker
from testing.fakes.cluster import FakeCluster
from testing.project import REPO, run_doit, snapshot

EXAMPLE = REPO / "examples" / "guestbook"
GENERATED = ("compose", "k8s", "docs")


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


def test_every_dodo_exports_the_same_tasks() -> None:
    """The repository's dodo.py and the example's are the same few lines (one list of tasks)."""
    def calls(path: Path) -> str:
        tree = ast.parse(path.read_text())
        return ast.dump(ast.Module(body=[n for n in tree.body if not isinstance(n, ast.Expr)], type_ignores=[]))

    assert calls(REPO / "dodo.py") == calls(EXAMPLE / "dodo.py")
    names = {f"task_{name}" for name in project.CREATORS}
    assert {"task_render", "task_validate", "task_images", "task_compose", "task_minikube"} <= names


def test_render_from_the_example_folder_matches_its_committed_files(example: Path) -> None:
    before = snapshot(example, *GENERATED)
    assert before, "the example's generated files are committed"
    for folder in GENERATED:
        shutil.rmtree(example / folder)
    result = run_doit(example, "render")
    assert result.code == 0, result.out[-3000:]
    # Written into the example's own folder, from the tool's templates, byte for byte as committed.
    assert snapshot(example, *GENERATED) == before
    assert not (example / "terraform").exists()
    again = run_doit(example, "render")
    assert again.code == 0 and again.executed() == []


def test_a_project_without_terraform_has_nothing_to_check(example: Path) -> None:
    result = run_doit(example, "tf_validate")
    assert result.code == 0, result.out[-3000:]
    assert "no terraform/ in this project" in result.out
    fmt = run_doit(example, "tf_fmt", "fix=1")  # a fix run always runs
    assert fmt.code == 0 and "no terraform/ in this project" in fmt.out, fmt.out[-3000:]
    # Recorded as done: there is nothing it could check later.
    assert run_doit(example, "tf_validate").executed() == []


def test_the_example_comes_up_on_the_fake_minikube(example: Path, fake_cluster: FakeCluster, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Its minikube environment, as written (docker-env, PostgreSQL in the cluster), on the fakes."""
    assert fake_cluster.bin_dir is not None
    fake_docker.install(fake_cluster.bin_dir, tmp_path / "fake-docker")
    monkeypatch.setenv("FAKE_DOCKER_HOST", "fake://minikube")
    result = run_doit(example, "minikube_up")
    assert result.code == 0, result.out[-3000:]
    cluster = FakeCluster(fake_cluster.state_dir, profile="guestbook")
    for kind, name in (("Deployment", "api"), ("Deployment", "worker"), ("StatefulSet", "postgres"),
                       ("Job", "migrate")):
        obj = cluster.get(kind, name, "guestbook")
        assert obj is not None, (kind, name)
        image = obj["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image == (example / f".build/minikube/minikube_images/{name}.ref").read_text().strip()
    worker = cluster.get("Deployment", "worker", "guestbook")
    assert worker is not None and worker["spec"]["replicas"] == 2
    secret = cluster.get("Secret", "guestbook-secrets", "guestbook")
    assert secret is not None and set(secret["stringData"]) == {"POSTGRES_PASSWORD"}
    assert "port-forward svc/api 8380:8080" in result.out


def test_a_tool_without_its_templates_says_how_to_install_it(example: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # What a non-editable install looks like: the package without the checkout around it.
    site = tmp_path / "site-packages"
    site.mkdir()
    (site / "tasks").symlink_to(paths.TOOL / "tasks")
    monkeypatch.setattr(paths, "TOOL", site)
    result = run_doit(example, "render")
    assert result.code != 0
    assert "stackbuild's templates are not where the installed tool keeps them" in result.out, result.out[-2000:]
    assert "pip install -e <stackbuild checkout>" in result.out and "Traceback" not in result.out
