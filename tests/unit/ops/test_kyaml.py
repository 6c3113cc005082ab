"""tasks/ops/kyaml.py: strings a Go YAML reader would take for numbers are quoted, the real
kustomize reads such a tag back as written, and everything else is what yaml.safe_dump writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tasks.ops import kyaml
from tasks.programs import kubectl
from testing.project import REPO


@pytest.mark.parametrize("value", ["012345678908", "08", "1e5", "0123e45", "-1E+3"])
def test_a_string_go_reads_as_a_number_is_quoted(value: str) -> None:
    assert yaml.safe_dump({"v": value}) == f"v: {value}\n"  # PyYAML leaves it bare
    assert kyaml.dump({"v": value}) == f"v: '{value}'\n"
    assert yaml.safe_load(kyaml.dump({"v": value})) == {"v": value}


@pytest.mark.parametrize(
    "value", ["abc", "a1e5", "5672", "true", "1.5", "0x1f", "sha256:0123", "multi\nline"]
)
def test_any_other_string_is_written_as_pyyaml_writes_it(value: str) -> None:
    # (The key is not `n`: Go reads that key as `false`, so kyaml quotes it.)
    assert kyaml.dump({"v": value, "list": [1, None]}) == yaml.safe_dump(
        {"v": value, "list": [1, None]}, sort_keys=False
    )


def test_every_manifest_the_demo_renders_is_written_as_before() -> None:
    docs = [
        d
        for path in sorted((REPO / "k8s").rglob("*.yaml"))
        for d in yaml.safe_load_all(path.read_text())
        if d
    ]
    assert len(docs) > 50
    assert kyaml.dump_all(docs, sort_keys=True) == yaml.safe_dump_all(docs, sort_keys=True)


def test_kustomize_reads_a_tag_of_digits_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    pod["spec"] = {"containers": [{"name": "c", "image": "app/api:latest"}]}
    (tmp_path / "pod.yaml").write_text(yaml.safe_dump(pod))
    doc = {"resources": ["pod.yaml"], "images": [{"name": "app/api", "newTag": "012345678908"}]}
    (tmp_path / "kustomization.yaml").write_text(kyaml.dump(doc))
    assert "image: app/api:012345678908" in kubectl.kustomize(".")


# Go's YAML reader drops every `_` after a number's first character before it parses one.
UNDERSCORED = ["1e5_0", "1e_5", "1.5e5_", "+_1", "-_0", "+_.5", "-_._5", "0.0e-0_1"]


@pytest.mark.parametrize("value", UNDERSCORED)
def test_a_number_with_underscores_anywhere_is_quoted(value: str) -> None:
    assert kyaml.dump({"v": value}) == f"v: '{value}'\n"


def test_kustomize_reads_a_configmap_value_with_underscores_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = {f"k{i}": value for i, value in enumerate(UNDERSCORED)}
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data}
    (tmp_path / "config.yaml").write_text(kyaml.dump(config))
    (tmp_path / "kustomization.yaml").write_text(kyaml.dump({"resources": ["config.yaml"]}))
    assert yaml.load(kubectl.kustomize("."), Loader=yaml.BaseLoader)["data"] == data


@pytest.mark.parametrize("value", ["y", "Y", "n", "N"])
def test_kustomize_reads_a_one_letter_yes_or_no_as_written(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # YAML 1.1 as Go reads a kustomization: `y` and `n` are booleans (PyYAML leaves them bare).
    monkeypatch.chdir(tmp_path)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    pod["spec"] = {"containers": [{"name": "c", "image": "app"}]}
    (tmp_path / "pod.yaml").write_text(yaml.safe_dump(pod))
    doc = {"resources": ["pod.yaml"], "images": [{"name": "app", "newTag": value}]}
    (tmp_path / "kustomization.yaml").write_text(kyaml.dump(doc))
    assert kyaml.dump({value: value}) == f"'{value}': '{value}'\n"
    assert f"image: app:{value}\n" in kubectl.kustomize(".")
