"""Rendering through doit on a project copy: incremental, all or nothing, the same in every
process."""

from __future__ import annotations

import shutil
from pathlib import Path

from testing.processes import Doit
from testing.project import run_doit, snapshot

GENERATED = ("k8s", "compose", "terraform")


def test_render_twice_executes_nothing_the_second_time(project: Path) -> None:
    first = run_doit(project, "render")
    assert first.code == 0, first.out
    second = run_doit(project, "render")
    assert second.code == 0
    assert second.executed() == []


def test_editing_one_environment_rerenders_only_its_outputs(project: Path) -> None:
    assert run_doit(project, "render").code == 0
    path = project / "environments" / "staging.yaml"
    path.write_text(path.read_text().replace("NODE_ENV: staging", "NODE_ENV: staging2"))
    again = run_doit(project, "render")
    assert again.code == 0
    # docs/placement.md is drawn from every environment, so it re-renders too.
    assert sorted(again.executed()) == [
        "render:compose-staging",
        "render:config",
        "render:docs-placement",
        "render:k8s-staging",
        "render:terraform-staging",
    ]
    assert 'NODE_ENV: "staging2"' in (project / "k8s/overlays/staging/configmap-staging.yaml").read_text()


def test_editing_one_template_rewrites_only_its_outputs(project: Path) -> None:
    assert run_doit(project, "render").code == 0
    before = snapshot(project, "k8s", "compose", "terraform")
    template = project / "templates" / "k8s" / "base" / "namespace.yaml.j2"
    template.write_text(template.read_text() + "    team: platform\n")
    again = run_doit(project, "render")
    # Every render step re-checks that all templates render (all or nothing) ...
    assert "render:k8s-base" in again.executed() and "render:compose-local" in again.executed()
    # ... but only the output of the edited template changes on disk.
    after = snapshot(project, "k8s", "compose", "terraform")
    assert {p for p in after if after[p] != before.get(p)} == {"k8s/base/namespace.yaml"}
    assert "wrote k8s/base/namespace.yaml" in again.out


def test_bad_config_fails_and_writes_nothing(project: Path) -> None:
    assert run_doit(project, "render").code == 0
    before = snapshot(project, "k8s", "compose")
    stack = project / "environments" / "stack.yaml"
    # A valid change to the stack (would re-render everything) plus a wrong type in one env.
    stack.write_text(stack.read_text().replace("LOG_LEVEL: info", "LOG_LEVEL: warn"))
    prod = project / "environments" / "prod.yaml"
    prod.write_text(
        prod.read_text().replace(
            "engine: {autoscale: {min: 3, max: 9, cpu: 70}}", "engine: {replicas: three}"
        )
    )
    result = run_doit(project, "render")
    assert result.code != 0
    assert "environments/prod.yaml" in result.out and "services.engine.replicas" in result.out
    assert "expected int, got str" in result.out
    assert "Traceback" not in result.out
    assert snapshot(project, "k8s", "compose") == before


def test_a_template_error_after_a_valid_edit_writes_nothing(project: Path) -> None:
    """The stack edit would rewrite k8s/base and compose/, but a broken compose template
    stops every render step before the first write."""
    assert run_doit(project, "render").code == 0
    before = snapshot(project, "k8s", "compose", "terraform")
    stack = project / "environments" / "stack.yaml"
    stack.write_text(stack.read_text().replace("LOG_LEVEL: info", "LOG_LEVEL: warn"))
    template = project / "templates/compose/docker-compose-services.yml.j2"
    template.write_text(template.read_text() + "{{ cfg.no_such_field }}\n")
    result = run_doit(project, "render")
    assert result.code == 1
    assert "templates/compose/docker-compose-services.yml.j2, line" in result.out
    assert "Traceback" not in result.out
    assert snapshot(project, "k8s", "compose", "terraform") == before


def test_changing_the_kubernetes_version_validates_again(project: Path) -> None:
    assert run_doit(project, "validate:k8s-minikube").code == 0
    assert run_doit(project, "validate:k8s-minikube").executed() == []
    stack = project / "environments" / "stack.yaml"
    stack.write_text(
        stack.read_text().replace('kubernetes_version: "1.33.0"', 'kubernetes_version: "1.32.0"')
    )
    for env in ("dev", "staging", "prod"):  # EKS must run the version the manifests are checked against
        path = project / "environments" / f"{env}.yaml"
        path.write_text(path.read_text().replace('cluster_version: "1.33"', 'cluster_version: "1.32"'))
    again = run_doit(project, "validate:k8s-minikube")
    assert again.code == 0, again.out
    assert "validate:k8s-minikube" in again.executed()
    assert "schema 1.32.0 strict OK" in again.out


def test_rendering_is_the_same_in_fresh_processes_with_other_hash_seeds(project: Path) -> None:
    outputs = []
    for seed in ("1", "2"):
        code, out = Doit(project, "-a", "render", seed=seed).finish()
        assert code == 0, out
        outputs.append(snapshot(project, *GENERATED))
    assert outputs[0] == outputs[1]


def test_an_output_folder_that_cannot_be_written_is_one_sentence_not_a_traceback(project: Path) -> None:
    prod = project / "environments" / "prod.yaml"
    prod.write_text(
        prod.read_text().replace("engine: {autoscale: {min: 3, max: 9, cpu: 70}}", "engine: {replicas: 4}")
    )
    overlay = project / "k8s" / "overlays" / "prod"
    shutil.rmtree(overlay)
    overlay.write_text("not a folder\n")  # as unwritable as a read-only folder, even for root
    result = run_doit(project, "render")
    assert result.code == 1, result.out
    assert "Traceback" not in result.out, result.out
    assert "cannot write k8s/overlays/prod/" in result.out, result.out
    assert "Fix: make k8s/overlays/prod a writable folder" in result.out, result.out


def test_a_secret_name_under_config_or_env_is_refused_before_anything_is_written(project: Path) -> None:
    before = snapshot(project, "k8s", "compose")
    for text, at in (
        ("config: {RABBITMQ_PASSWORD: hunter2}\n", "config.RABBITMQ_PASSWORD"),
        (
            "services: {engine: {env: {RABBITMQ_PASSWORD: hunter2}}}\n",
            "services.engine.env.RABBITMQ_PASSWORD",
        ),
    ):
        local = project / "environments" / "local.yaml"
        saved = local.read_text()
        local.write_text(saved + text)
        result = run_doit(project, "render")
        local.write_text(saved)
        assert result.code == 78, result.out
        assert "==> File environments/local.yaml, line 4" in result.out, result.out
        assert f"==> At {at}\n" in result.out and "is a secret" in result.out, result.out
        assert snapshot(project, "k8s", "compose") == before  # no plain-text secret written


def test_doit_clean_keeps_the_committed_generated_files(project: Path) -> None:
    assert run_doit(project, "render").code == 0
    committed = snapshot(project, *GENERATED, "docs")
    for argv in ([], ["render"]):
        cleaned = run_doit(project, *argv, command="clean")
        assert not cleaned.code, cleaned.out  # doit's clean command returns None when it worked
        assert snapshot(project, *GENERATED, "docs") == committed


def _edit(project: Path, env: str, old: str, new: str) -> None:
    path = project / "environments" / f"{env}.yaml"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))


def test_a_valid_edit_that_removes_a_rendered_file_never_exits_2(project: Path) -> None:
    """validate's dependencies are what this run's render leaves: a patch render removes is not one."""
    first = run_doit(project, "validate:k8s-prod")
    assert first.code == 0, first.out[-3000:]
    scale = project / "k8s/overlays/prod/scale-engine.patch.yaml"
    assert scale.is_file()
    _edit(
        project, "prod", "  engine: {autoscale: {min: 3, max: 9, cpu: 70}}\n", ""
    )  # back to the stack's default
    again = run_doit(project, "validate:k8s-prod")
    assert again.code == 0, again.out[-3000:]
    assert not scale.exists() and "validate:k8s-prod" in again.executed()
    delete = project / "k8s/overlays/prod/delete-rabbitmq.patch.yaml"
    assert delete.is_file()
    _edit(project, "prod", "rabbitmq: external}", "rabbitmq: cluster}")  # into the cluster
    _edit(project, "prod", "  rabbitmq: prod.example.cloudamqp.com:5672\n", "")
    moved = run_doit(project, "validate:k8s-prod")
    assert moved.code == 0, moved.out[-3000:]
    assert not delete.exists() and "DependencyError" not in moved.out


def test_deleting_an_environment_removes_what_render_made_for_it(project: Path) -> None:
    assert run_doit(project, "render").code == 0
    secrets = project / "compose" / "staging" / ".env"
    secrets.write_text("RABBITMQ_PASSWORD=kept\n")
    (project / "environments" / "staging.yaml").unlink()
    result = run_doit(project, "render", "tf_fmt")
    assert result.code == 0, result.out[-3000:]
    for folder in ("k8s/overlays/staging", "terraform/environments/staging"):
        assert not (project / folder).exists(), folder
    assert sorted(p.name for p in (project / "compose" / "staging").iterdir()) == [".env"]
    assert "removed terraform/environments/staging/main.tf" in result.out
    assert "kept compose/staging/.env: render did not make it" in result.out
    assert run_doit(project, "render").executed() == []


def test_an_overlay_goes_when_its_environment_stops_running_kubernetes(project: Path) -> None:
    assert run_doit(project, "render").code == 0
    _edit(project, "minikube", "runtime: kubernetes", "runtime: compose")
    _edit(project, "minikube", "rabbitmq: cluster", "rabbitmq: compose")
    result = run_doit(project, "render")
    assert result.code == 0, result.out[-3000:]
    assert not (project / "k8s" / "overlays" / "minikube").exists()


def test_render_never_writes_through_a_link_out_of_the_project(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(project / "compose" / "local", elsewhere)
    before = {p.name: p.read_bytes() for p in elsewhere.iterdir()}
    shutil.rmtree(project / "compose" / "local")
    (project / "compose" / "local").symlink_to(elsewhere, target_is_directory=True)
    _edit(project, "local", "runtime: compose", "runtime: compose\nconfig: {EXTRA: x}")
    result = run_doit(project, "render")
    assert result.code == 1, result.out[-3000:]
    assert f"compose/local is a symlink to {elsewhere}, outside the project" in result.out
    assert "Traceback" not in result.out
    assert {p.name: p.read_bytes() for p in elsewhere.iterdir()} == before
