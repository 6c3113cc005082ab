"""tasks/render/plan.py: what one render produces and removes, known before it runs, on a
scratch copy of the tool's checkout."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.render import plan
from tasks.render.templates import Outputs
from testing.environments import render_tree
from testing.project import REPO


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the tool's checkout with what rendering reads (doit runs in the project root)."""
    monkeypatch.chdir(tmp_path)
    return render_tree(tmp_path)


def break_env(root: Path, env: str) -> None:
    (root / "environments" / f"{env}.yaml").write_text("nonsense_key: 1\n")


def names(produce: list[plan.Produce]) -> list[str]:
    out = []
    for item in produce:
        func = getattr(item, "func", item)
        args = getattr(item, "args", ())
        out.append(f"{func.__name__}{'(' + args[0] + ')' if args else ''}")
    return out


def test_producers_follow_what_each_environment_has(tree: Path) -> None:
    made = names(plan.producers(tree))
    assert made[:2] == ["stack_base", "stack_components"] and made[-1] == "docs_placement"
    assert "env_compose(local)" in made and "env_overlay(local)" not in made  # local runs Compose only
    assert {"env_compose(minikube)", "env_overlay(minikube)"} <= set(made)
    assert "env_terraform(minikube)" not in made
    assert {"env_overlay(dev)", "env_terraform(dev)"} <= set(made)
    assert "terraform_modules" not in made  # the tool's own checkout has the modules


def test_a_broken_environment_only_drops_its_own_producers(tree: Path) -> None:
    break_env(tree, "dev")
    made = names(plan.producers(tree))
    assert not [m for m in made if "(dev)" in m]
    assert "env_compose(staging)" in made
    assert "docs_placement" not in made  # it reads every environment


def test_a_project_outside_the_tool_gets_module_copies(tree: Path) -> None:
    shutil.rmtree(tree / "tasks")
    made = names(plan.producers(tree))
    assert made[-3:] == ["docs_placement", "terraform_modules", "docker_builds"]
    copies = plan.terraform_modules(tree)
    assert "terraform/modules/README.md" in copies and "terraform/modules/eks/main.tf" in copies


def test_an_output_that_is_not_yaml_stops_the_render(tree: Path) -> None:
    template = tree / "templates" / "k8s" / "base" / "namespace.yaml.j2"
    template.write_text(template.read_text() + "broken: [\n")
    with pytest.raises(StackError, match="rendering produced invalid YAML in k8s/base/namespace.yaml"):
        plan.rendered(tree)


def test_a_changed_output_behind_a_link_out_stops_the_render_before_any_write(
    tree: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # terraform/ is a link to the tool's own (render_tree): its outputs are unchanged, so read only.
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "local"
    shutil.copytree(REPO / "compose" / "local", elsewhere, ignore=shutil.ignore_patterns(".env"))
    (tree / "compose").mkdir()
    (tree / "compose" / "local").symlink_to(elsewhere, target_is_directory=True)
    plan.rendered(tree)  # what is behind the links holds what render makes: nothing to write there
    local = tree / "environments" / "local.yaml"
    local.write_text(local.read_text() + "config: {EXTRA: x}\n")
    with pytest.raises(StackError, match="refusing to write compose/local/docker-compose-services.yml: "):
        plan.rendered(tree)


def test_the_render_is_cached_until_an_input_changes(tree: Path) -> None:
    first = plan.rendered(tree)
    assert plan.rendered(tree) is first
    assert "compose/local/docker-compose-services.yml" in first
    path = tree / "environments" / "stack.yaml"
    text = path.read_text()
    path.write_text(text.replace("LOG_LEVEL: info", "LOG_LEVEL: warn"))
    second = plan.rendered(tree)
    assert second is not first and second != first
    assert 'LOG_LEVEL: "warn"' in second["compose/local/docker-compose-services.yml"]


def test_only_the_latest_render_is_kept(tree: Path, tmp_path: Path) -> None:
    first = plan.rendered(tree)
    other = shutil.copytree(tree, tmp_path / "other", symlinks=True)
    assert plan.rendered(other) is not first  # another project: its own render
    again = plan.rendered(tree)
    assert again is not first and again == first  # rendered anew: the first was let go


def test_a_touched_template_renders_again(tree: Path) -> None:
    first = plan.rendered(tree)
    template = next(p for p in (tree / "templates").rglob("*") if p.is_file())
    os.utime(template, ns=(1, 1))
    assert plan.rendered(tree) is not first


def test_produced_names_each_output_once_per_input_state(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = plan.env_overlay

    def counted(env: str, root: Path) -> Outputs:
        calls.append(env)
        return real(env, root)

    monkeypatch.setattr(plan, "env_overlay", counted)
    first = plan.produced(tree)
    assert "k8s/overlays/staging/kustomization.yaml" in first
    asked = len(calls)
    assert asked > 0
    assert plan.produced(tree) == first and len(calls) == asked  # asked again: nothing rebuilt
    plan.produced(tree).add("mutated by the caller")
    assert "mutated by the caller" not in plan.produced(tree)


def test_produced_sees_an_edit_that_adds_an_output(tree: Path) -> None:
    before = plan.produced(tree)
    assert "k8s/overlays/staging/scale-engine.patch.yaml" not in before
    path = tree / "environments" / "staging.yaml"
    path.write_text(path.read_text() + "services:\n  engine: {replicas: 7}\n")
    assert "k8s/overlays/staging/scale-engine.patch.yaml" in plan.produced(tree)


def test_removed_is_what_render_made_that_nothing_makes_now(tree: Path) -> None:
    stale = tree / "k8s" / "overlays" / "gone" / "kustomization.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text(
        "# Generated from templates/k8s/overlay/kustomization.yaml.j2 by `doit render`. Do not edit.\n"
    )
    mine = tree / "k8s" / "overlays" / "gone" / "notes.md"
    mine.write_text("the team's notes\n")
    assert plan.removed(tree) == ["k8s/overlays/gone/kustomization.yaml"]
    # With a broken environment only the folders of the loadable producers are judged.
    break_env(tree, "dev")
    assert plan.removed(tree) == []


def test_after_render_drops_what_render_removes_and_adds_what_it_makes(tree: Path) -> None:
    folder = "k8s/overlays/minikube"
    assert run_render(tree)
    patch = tree / folder / "scale-engine.patch.yaml"
    patch.write_text(
        "# Generated from templates/k8s/overlay/scale.patch.yaml.j2 by `doit render`. Do not edit.\n"
    )
    files = sorted(p.relative_to(tree).as_posix() for p in (tree / folder).iterdir())
    after = plan.after_render(tree, files, folder)
    assert f"{folder}/scale-engine.patch.yaml" not in after
    assert f"{folder}/kustomization.yaml" in after
    (tree / folder / "kustomization.yaml").unlink()  # not there yet, but this render makes it
    assert f"{folder}/kustomization.yaml" in plan.after_render(tree, [], folder)
    assert (
        plan.after_render(
            tree,
            [],
        )
        == []
    )


def run_render(root: Path) -> bool:
    from tasks.render import writer

    writer.write_all(plan.rendered(root), root)
    return True


def test_after_render_follows_an_environment_edited_before_the_next_run(tree: Path) -> None:
    folder = "k8s/overlays/minikube"
    patch = f"{folder}/scale-engine.patch.yaml"
    assert patch not in plan.after_render(tree, [], folder)
    env = tree / "environments" / "minikube.yaml"
    env.write_text(env.read_text() + "services:\n  engine: {replicas: 2}\n")
    plan.forget()  # what every run's start does (tasks/cli/start.py): one process may run doit twice
    assert patch in plan.after_render(tree, [], folder)


def test_after_render_works_out_removals_once_per_run(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    real = plan.removed

    def removed(root: Path) -> list[str]:
        calls.append(root)
        return real(root)

    monkeypatch.setattr(plan, "removed", removed)
    for folder in ("k8s/overlays/minikube", "k8s/overlays/dev", "compose/offline"):
        plan.after_render(tree, [], folder)
    assert calls == [tree]  # every environment's validate asks; the disk is read for the first
    plan.forget()
    plan.after_render(tree, [], "k8s/overlays/dev")
    assert calls == [tree, tree]
