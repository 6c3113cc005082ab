"""Rendering: byte-stable, headed, secret-free, and atomic."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tasks.config import load as config
from tasks.errors import StackError
from tasks.render import files as render
from testing.project import REPO


def all_outputs(root: Path) -> dict[str, str]:
    stack = config.load_stack(root)
    out: render.Outputs = {**render.k8s_base(stack), **render.k8s_components(stack)}
    for env in config.environments(root):
        cfg = config.load(env, root)
        out.update(render.compose(cfg))
        if cfg.runtime == "kubernetes":
            out.update(render.k8s_overlay(cfg, stack))
        if cfg.cloud:
            out.update(render.terraform(cfg))
    return render.texts(out)


@pytest.fixture
def outputs(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(REPO)
    return all_outputs(REPO)


def test_rendering_twice_is_byte_identical(outputs: dict[str, str]) -> None:
    assert all_outputs(REPO) == outputs


def test_committed_output_is_up_to_date(outputs: dict[str, str]) -> None:
    stale = [p for p, text in outputs.items() if (REPO / p).read_text() != text]
    assert stale == [], "run `doit render` and commit the result"


def test_every_generated_file_names_its_template(outputs: dict[str, str]) -> None:
    for path, text in outputs.items():
        first = text.splitlines()[0]
        assert "Generated from templates/" in first and "`doit render`" in first, path
        template = first.split("templates/")[1].split(" ")[0]
        assert (REPO / "templates" / template).is_file(), path


def test_no_secret_value_is_rendered(outputs: dict[str, str]) -> None:
    for path, text in outputs.items():
        assert "RABBITMQ_PASSWORD=" not in text or path.endswith(".env.example"), path
        if path.endswith(".env.example"):
            assert "RABBITMQ_PASSWORD=change-me" in text


def test_compose_units() -> None:
    assert render.cpus("500m") == "0.5"
    assert render.cpus("2") == "2"
    assert render.memory("256Mi") == "256m"
    assert render.memory("1Gi") == "1g"


def test_offline_compose_has_no_mongodb_and_no_persistence_agent(outputs: dict[str, str]) -> None:
    db = outputs["compose/offline/docker-compose-db.yml"]
    services = outputs["compose/offline/docker-compose-services.yml"]
    assert "mongodb" not in db and "redis:" in db and "${REDIS_IMAGE:-srvthreds/redis-offline:latest}" in db
    assert "persistence-agent" not in services and "MONGO_HOST" not in services


def test_local_compose_initialises_the_mongodb_replica_set(outputs: dict[str, str]) -> None:
    db = outputs["compose/local/docker-compose-db.yml"]
    assert "rs.initiate" in db and '"--replSet", "rs0"' in db


def test_write_all_skips_unchanged_files_and_leaves_no_temp(tmp_path: Path) -> None:
    assert render.write_all({"a/x.txt": "1\n", "b/y.txt": "2\n"}, tmp_path) == ["a/x.txt", "b/y.txt"]
    assert render.write_all({"a/x.txt": "1\n", "b/y.txt": "2\n"}, tmp_path) == []
    assert not list(tmp_path.rglob("*.tmp"))


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_write_all_is_all_or_nothing(tmp_path: Path) -> None:
    # A failure in the middle of writing (here the second of three files: its folder is a
    # file) leaves every file as it was: the first one is not replaced either.
    render.write_all(
        {"a/x.txt": "old x\n", "b": "a file where a folder is wanted\n", "c/z.txt": "old z\n"}, tmp_path
    )
    before = _tree(tmp_path)
    with pytest.raises(StackError) as err:
        render.write_all({"a/x.txt": "new x\n", "b/y.txt": "new y\n", "c/z.txt": "new z\n"}, tmp_path)
    assert "cannot write b/y.txt" in err.value.message
    assert _tree(tmp_path) == before  # no file changed, no temp file left


def test_write_all_puts_back_what_it_replaced_when_a_rename_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    render.write_all({"a/x.txt": "old x\n", "c/z.txt": "old z\n"}, tmp_path)
    before = _tree(tmp_path)
    real_replace, calls = os.replace, []

    def flaky_replace(src: str | Path, dst: str | Path) -> None:
        calls.append(dst)
        if len(calls) == 3:  # the last of the three new files
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(StackError, match="cannot write"):
        render.write_all({"a/x.txt": "new x\n", "b/y.txt": "new y\n", "c/z.txt": "new z\n"}, tmp_path)
    monkeypatch.setattr(os, "replace", real_replace)
    assert _tree(tmp_path) == before


def test_write_all_prunes_only_generated_files(tmp_path: Path) -> None:
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "old.yaml").write_text("# Generated from templates/x by `doit render`. Do not edit.\n")
    (tmp_path / "k" / "mine.yaml").write_text("hand-written\n")
    render.write_all({"k/new.yaml": "x\n"}, tmp_path, prune=["k"])
    assert sorted(p.name for p in (tmp_path / "k").iterdir()) == ["mine.yaml", "new.yaml"]


def test_a_value_with_a_line_break_never_reaches_a_template(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The config boundary refuses such values; this is the guard behind it, in every template.
    monkeypatch.chdir(project)
    render._jinja.cache_clear()
    template = project / "templates/k8s/base/namespace.yaml.j2"
    template.write_text(template.read_text() + "x: {{ evil }}\n")
    with pytest.raises(StackError, match=r"templates/k8s/base/namespace.yaml.j2, line \d+: .*line break"):
        render._render_now(
            "k8s/base/namespace.yaml.j2", {"cfg": config.load_stack(project), "evil": "a\nhost: injected"}
        )
    render._jinja.cache_clear()


def test_templates_are_sandboxed(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    render._jinja.cache_clear()
    template = project / "templates/k8s/base/namespace.yaml.j2"
    template.write_text(template.read_text() + "{{ cfg.__class__.__init__.__globals__ }}\n")
    with pytest.raises(StackError, match="unsafe"):
        render._render_now("k8s/base/namespace.yaml.j2", {"cfg": config.load_stack(project)})
    render._jinja.cache_clear()


def test_compose_escapes_dollar_signs_in_values(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    cfg = config.load("local", project)
    texts = render.texts(render.compose(replace(cfg, config={**cfg.config, "PRICE": "5$ or ${HOME}"})))
    assert 'PRICE: "5$$ or $${HOME}"' in texts["compose/local/docker-compose-services.yml"]


def test_write_all_never_prunes_another_runs_temp_file(tmp_path: Path) -> None:
    (tmp_path / "k").mkdir()
    in_flight = tmp_path / "k" / ".new.yaml.abc123.tmp"
    in_flight.write_text("# Generated from templates/x by `doit render`. Do not edit.\n")
    render.write_all({"k/new.yaml": "x\n"}, tmp_path, prune=["k"])
    assert in_flight.exists()
