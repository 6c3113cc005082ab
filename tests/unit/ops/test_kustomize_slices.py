"""tasks/ops/kustomize_slices.py with the real kustomize: the joined slices are the documents
of the whole `kubectl kustomize` build (as a multiset: slices come out slice by slice, so the
order differs) for every overlay of the demo, of examples/guestbook and of a generated stack;
a change rebuilds only the slice it touches; a failing slice reports the whole build's error;
a damaged slice cache only means building again. Deploy's pinned slices, put in kustomize's
order, are its whole pinned build document for document, in the same order."""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tasks.errors import StackError
from tasks.ops import k8s_deploy, kustomize_order, kustomize_slices, kyaml, validate
from tasks.programs import kubectl
from tasks.store import state
from testing import recorder
from testing.project import REPO, run_doit

GENERATED = 60  # services in the generated stack: several slices at the default size
SOURCES = {"demo": REPO, "guestbook": REPO / "examples" / "guestbook"}
CASES = [
    (source, p.name) for source, root in SOURCES.items() for p in sorted((root / "k8s/overlays").iterdir())
]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rendered copy of the project rewritten to a stack of GENERATED services."""
    root = tmp_path_factory.mktemp("generated") / "project"
    subprocess.run([sys.executable, str(REPO / "bench/stackgen.py"), str(GENERATED), str(root)], check=True)
    assert run_doit(root, "render").code == 0
    return root


def documents(text: str) -> collections.Counter[str]:
    return collections.Counter(validate.documents(text))


def same_as_whole(overlay: str, built: kustomize_slices.Built) -> None:
    whole = kubectl.kustomize(overlay)
    assert built.text.count("\n---\n") == whole.count("\n---\n")
    assert documents(built.text) == documents(whole)


@pytest.mark.parametrize(("source", "overlay"), CASES)
def test_joined_slices_are_the_whole_build_for_the_committed_overlays(
    source: str, overlay: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(SOURCES[source] / "k8s", tmp_path / "k8s")
    monkeypatch.chdir(tmp_path)
    # The smallest slices (one group each): the demo's overlays are one slice by default.
    built = kustomize_slices.build(f"k8s/overlays/{overlay}", overlay, size=1)
    assert built.slices > 3
    assert built.rebuilt == built.slices
    same_as_whole(f"k8s/overlays/{overlay}", built)


@pytest.mark.parametrize("overlay", sorted(p.name for p in (REPO / "k8s/overlays").iterdir()))
def test_joined_slices_are_the_whole_build_for_a_generated_stack(
    overlay: str, generated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(generated)
    built = kustomize_slices.build(f"k8s/overlays/{overlay}", overlay, size=10)
    assert built.slices > 2
    same_as_whole(f"k8s/overlays/{overlay}", built)


def a_deployed_service(project: Path) -> str:
    stack = yaml.safe_load((project / "environments/stack.yaml").read_text())
    return next(str(name) for name, svc in stack["services"].items() if svc.get("kind") == "deployment")


def test_one_replicas_change_rebuilds_exactly_one_slice(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    log = recorder.record(monkeypatch, tmp_path / "calls", "kubectl")
    first = kustomize_slices.build("k8s/overlays/staging", "staging", size=2)
    again = kustomize_slices.build("k8s/overlays/staging", "staging", size=2)
    assert (first.rebuilt, again.rebuilt) == (first.slices, 0)
    assert len(recorder.calls(log, "kubectl")) == first.slices  # nothing built the second time
    env_file = project / "environments/staging.yaml"
    env_file.write_text(
        env_file.read_text() + f"services:\n  {a_deployed_service(project)}: {{replicas: 4}}\n"
    )
    assert run_doit(project, "render").code == 0
    log.write_text("")
    changed = kustomize_slices.build("k8s/overlays/staging", "staging", size=2)
    assert recorder.calls(log, "kubectl") == ["kubectl kustomize .build/staging/kustomize-slices/work/0"]
    assert (changed.slices, changed.rebuilt) == (first.slices, 1)
    same_as_whole("k8s/overlays/staging", changed)
    assert "replicas: 4" in changed.text


def test_a_slice_that_fails_reports_the_whole_builds_error(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    broken = project / "k8s/base/configmap.yaml"
    text = broken.read_text()
    broken.write_text(text.replace("metadata:\n  name:", "metadata:\n  labels: {a: b}\n  old-name:", 1))
    with pytest.raises(StackError) as whole:
        kubectl.kustomize("k8s/overlays/staging")
    with pytest.raises(StackError) as sliced:
        kustomize_slices.build("k8s/overlays/staging", "staging", size=2)
    assert str(sliced.value) == str(whole.value)
    assert "k8s/base/configmap.yaml" in str(sliced.value)
    assert not (state.kustomize_slices("staging") / "work").exists()  # no scratch left behind


def test_a_damaged_slice_cache_only_means_building_again(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    first = kustomize_slices.build("k8s/overlays/prod", "prod", size=2)
    kept = sorted(state.kustomize_slices("prod").glob("*.yaml"))
    assert len(kept) == first.slices
    kept[0].write_text("# sha256 0\nkind: NotWhatWasBuilt\n")
    kept[1].unlink()
    kept[1].mkdir()  # a folder where the output goes: built, not kept, no failure
    kept[2].write_bytes(kept[2].read_bytes()[:-10])
    again = kustomize_slices.build("k8s/overlays/prod", "prod", size=2)
    assert again.rebuilt == 3
    same_as_whole("k8s/overlays/prod", again)


def test_a_slice_folder_that_cannot_be_written_means_the_whole_build(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project)
    folder = state.kustomize_slices("prod")
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("not a folder\n")  # where the slices and their scratch folder go
    built = kustomize_slices.build("k8s/overlays/prod", "prod", size=2)
    assert built.slices == 0
    assert built.why_whole.startswith("the slices cannot be built (")
    note = capsys.readouterr()
    assert f"{folder.as_posix()} cannot be written (" in note.out + note.err
    assert f"built whole (slower); delete {folder.as_posix()}" in note.out + note.err
    assert built.text == kubectl.kustomize("k8s/overlays/prod")


def test_an_overlay_it_cannot_slice_is_built_whole(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    kust = project / "k8s/overlays/staging/kustomization.yaml"
    generator = "configMapGenerator:\n  - name: extra\n    literals: [A=b]\n"
    kust.write_text(kust.read_text() + generator)
    built = kustomize_slices.build("k8s/overlays/staging", "staging", size=2)
    assert (built.slices, built.why_whole) == (0, f"{kust.relative_to(project)} uses configMapGenerator")
    assert built.text == kubectl.kustomize("k8s/overlays/staging")
    assert "extra-" in built.text  # the generator's hash suffix: the whole build made it


def test_an_overlay_with_no_resources_is_asked_of_the_whole_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty/kustomization.yaml").write_text("namespace: ns\n")
    built = kustomize_slices.build("empty", "dev")
    assert (built.slices, built.text, built.why_whole) == (0, "", "empty has no resources")


REGISTRY = "123456789012.dkr.ecr.us-west-2.amazonaws.com"


def deploy_pins(overlay: str, registry: str | None) -> tuple[list[dict[str, str]], str]:
    """Deploy's `images:` entries for every image the overlay runs (each at a content tag),
    and the folder of the kustomization deploy writes around the overlay with them."""
    built = [yaml.safe_load(d) for d in validate.documents(kubectl.kustomize(overlay)) if d.strip()]
    repos = {c["image"].rsplit(":", 1)[0] for d in built if d for c in k8s_deploy.containers(d)}
    repos = {r.removeprefix(f"{REGISTRY}/") for r in repos}
    refs = {r: f"{r}:{i:012x}" for i, r in enumerate(sorted(repos))}
    pins = k8s_deploy.image_entries(refs, registry)
    wrapper = Path(".build/wrapper")
    wrapper.mkdir(parents=True, exist_ok=True)
    doc = {"resources": [os.path.relpath(overlay, wrapper)], "images": pins}
    (wrapper / "kustomization.yaml").write_text(kyaml.dump(doc))  # as deploy writes it
    return pins, str(wrapper)


def same_as_whole_pinned(built: kustomize_slices.Built, wrapper: str) -> list[dict[str, object]]:
    whole = [yaml.safe_load(d) for d in validate.documents(kubectl.kustomize(wrapper)) if d.strip()]
    sliced = kustomize_order.ordered([d for d in yaml.safe_load_all(built.text) if isinstance(d, dict)])
    assert sliced == whole  # the same documents, in the same order
    return sliced


@pytest.mark.parametrize(("source", "overlay"), CASES)
def test_pinned_slices_in_kustomizes_order_are_deploys_whole_build(
    source: str, overlay: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(SOURCES[source] / "k8s", tmp_path / "k8s")
    monkeypatch.chdir(tmp_path)
    path = f"k8s/overlays/{overlay}"
    # A cloud overlay renames each repository to its registry's: deploy pins both spellings.
    registry = REGISTRY if REGISTRY in (tmp_path / path / "kustomization.yaml").read_text() else None
    pins, wrapper = deploy_pins(path, registry)
    built = kustomize_slices.build(path, overlay, size=1, pins=pins, whole=wrapper)
    assert built.slices > 3
    docs = same_as_whole_pinned(built, wrapper)
    images = {c["image"] for d in docs for c in k8s_deploy.containers(d)}
    assert images and all(image.rsplit(":", 1)[1] != "latest" for image in images)


@pytest.mark.parametrize("overlay", ["staging", "minikube"])
def test_pinned_slices_of_a_generated_stack_are_deploys_whole_build(
    overlay: str, generated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(generated)
    path = f"k8s/overlays/{overlay}"
    pins, wrapper = deploy_pins(path, REGISTRY if overlay == "staging" else None)
    built = kustomize_slices.build(path, overlay, size=10, pins=pins, whole=wrapper)
    assert built.slices > 2
    same_as_whole_pinned(built, wrapper)


def test_one_new_image_tag_rebuilds_only_the_slices_that_run_it(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(generated)
    path = "k8s/overlays/minikube"
    pins, wrapper = deploy_pins(path, None)
    log = recorder.record(monkeypatch, tmp_path / "calls", "kubectl")  # (kubectl's path is in the keys)
    first = kustomize_slices.build(path, "minikube", size=10, pins=pins, whole=wrapper)
    validating = kustomize_slices.build(path, "minikube", size=10)  # validation's slices are kept apart
    again = kustomize_slices.build(path, "minikube", size=10, pins=pins, whole=wrapper)
    assert (again.slices, again.rebuilt) == (first.slices, 0)
    assert validating.slices == first.slices
    # A database's image: its short name (`rabbitmq`) is in many slices' text, its image in one.
    changed = [dict(pins[0], newTag="fedcba987654"), *pins[1:]]
    log.write_text("")
    after = kustomize_slices.build(path, "minikube", size=10, pins=changed, whole=wrapper)
    assert after.rebuilt == 1 < after.slices
    assert len(recorder.calls(log, "kubectl")) == after.rebuilt
    assert f"{pins[0]['name']}:fedcba987654" in after.text


def test_a_pinned_overlay_it_cannot_slice_is_deploys_whole_build(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    kust = project / "k8s/overlays/minikube/kustomization.yaml"
    kust.write_text(kust.read_text() + "configMapGenerator:\n  - name: extra\n    literals: [A=b]\n")
    pins, wrapper = deploy_pins("k8s/overlays/minikube", None)
    built = kustomize_slices.build("k8s/overlays/minikube", "minikube", pins=pins, whole=wrapper)
    assert built.slices == 0
    assert built.text == kubectl.kustomize(wrapper)  # the pins applied by the whole build


# A Deployment whose container image is `app`, in two spellings YAML allows besides `image: app`.
JSON_DEPLOYMENT = (
    '{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"}, "spec": {"selector":'
    ' {"matchLabels": {"app": "a"}}, "template": {"metadata": {"labels": {"app": "a"}}, "spec":'
    ' {"containers": [{"name": "c", "image": "app"}]}}}}\n'
)
NEXT_LINE_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: a
spec:
  selector:
    matchLabels: {app: a}
  template:
    metadata:
      labels: {app: a}
    spec:
      containers:
        - name: c
          image:
            app
"""
OTHER_DEPLOYMENT = JSON_DEPLOYMENT.replace('"a"', '"b"').replace('"app"', '"other"')


SPELLINGS = {
    "json": JSON_DEPLOYMENT,
    "next-line": NEXT_LINE_DEPLOYMENT,
    "tagged": NEXT_LINE_DEPLOYMENT.replace("image:\n", "image: !!str\n"),
    "block": NEXT_LINE_DEPLOYMENT.replace("image:\n", "image: >-\n"),
}


@pytest.mark.parametrize("deployment", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_pinned_slices_pin_images_in_any_yaml_spelling(
    deployment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    base, overlay = tmp_path / "k8s/base", tmp_path / "k8s/overlays/dev"
    base.mkdir(parents=True)
    overlay.mkdir(parents=True)
    (base / "a.yaml").write_text(deployment)
    (base / "b.yaml").write_text(OTHER_DEPLOYMENT)
    (base / "kustomization.yaml").write_text("resources: [a.yaml, b.yaml]\n")
    (overlay / "kustomization.yaml").write_text("resources: [../../base]\n")
    pins, wrapper = deploy_pins("k8s/overlays/dev", None)
    built = kustomize_slices.build("k8s/overlays/dev", "dev", size=1, pins=pins, whole=wrapper)
    assert built.slices == 2
    docs = same_as_whole_pinned(built, wrapper)
    assert "image: app:000000000000" in kyaml.dump_all(docs)


def test_pinned_slices_pin_an_image_an_overlays_json_patch_sets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    base, overlay = tmp_path / "k8s/base", tmp_path / "k8s/overlays/dev"
    base.mkdir(parents=True)
    overlay.mkdir(parents=True)
    (base / "a.yaml").write_text(JSON_DEPLOYMENT)
    (base / "b.yaml").write_text(OTHER_DEPLOYMENT)
    (base / "kustomization.yaml").write_text("resources: [a.yaml, b.yaml]\n")
    op = {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "patched:2"}
    patch = {"target": {"kind": "Deployment", "name": "a"}, "patch": kyaml.dump([op])}
    (overlay / "kustomization.yaml").write_text(kyaml.dump({"resources": ["../../base"], "patches": [patch]}))
    pins, wrapper = deploy_pins("k8s/overlays/dev", None)
    assert {pin["name"] for pin in pins} == {"patched", "other"}
    built = kustomize_slices.build("k8s/overlays/dev", "dev", size=1, pins=pins, whole=wrapper)
    assert built.slices == 2
    docs = same_as_whole_pinned(built, wrapper)
    assert "image: patched:" in kyaml.dump_all(docs) and "patched:2" not in kyaml.dump_all(docs)
