"""tasks/ops/kustomize_plan.py on small overlays of its own: what must share a slice does,
each patch and `images:` entry goes only where its resources are, and anything it cannot
route safely sends the overlay to the whole build (Whole, with the reason)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.ops import kustomize_plan


def write(folder: Path, name: str, *docs: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(yaml.safe_dump_all(docs))


def obj(kind: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, **extra}


def deployment(name: str) -> dict[str, Any]:
    container = {"name": name, "image": f"team/{name}"}
    spec = {"template": {"spec": {"containers": [container]}}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": spec}


def overlay(tmp_path: Path, base: list[str], **keys: Any) -> Path:
    """An overlay over a base of one Deployment and one Service per name in `base`."""
    for name in base:
        write(tmp_path / "base", f"{name}.yaml", deployment(name), obj("Service", name))
    kust = {"namespace": "ns", "resources": [f"{n}.yaml" for n in base]}
    write(tmp_path / "base", "kustomization.yaml", kust)
    write(tmp_path / "ov", "kustomization.yaml", {"namespace": "ns", "resources": ["../base"], **keys})
    return tmp_path / "ov"


def slice_of(plan: kustomize_plan.Plan, text: str) -> list[int]:
    """The slices with a file holding `text`."""
    return [i for i, files in enumerate(plan.slices) if any(text.encode() in d for d in files.values())]


def kustomization(files: dict[str, bytes]) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(files["kustomization.yaml"])
    return loaded


def test_what_one_name_is_made_of_shares_a_slice_and_slices_are_about_size(tmp_path: Path) -> None:
    names = ["a", "b", "c", "d"]
    plan = kustomize_plan.plan(overlay(tmp_path, names), size=1)
    assert len(plan.slices) == 4  # a Deployment and its Service share a name: never split
    for name in names:
        assert len(slice_of(plan, f"image: team/{name}")) == 1
        assert slice_of(plan, f"image: team/{name}") == slice_of(
            plan, f"kind: Service\nmetadata:\n  name: {name}"
        )


def test_a_patch_goes_only_to_the_slice_holding_its_target(tmp_path: Path) -> None:
    folder = overlay(tmp_path, ["a", "b"], patches=[{"path": "scale-b.yaml"}])
    write(folder, "scale-b.yaml", {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "b"}})
    plan = kustomize_plan.plan(folder, size=1)
    routed = [i for i, files in enumerate(plan.slices) if kustomization(files).get("patches")]
    assert routed == slice_of(plan, "image: team/b")
    assert "scale-b.yaml" in plan.slices[routed[0]]


def test_each_slice_carries_only_the_images_its_files_name(tmp_path: Path) -> None:
    images = [{"name": "team/a", "newTag": "1"}, {"name": "team/b", "newTag": "2"}]
    plan = kustomize_plan.plan(overlay(tmp_path, ["a", "b"], images=images), size=1)
    assert [kustomization(f)["images"] for f in plan.slices] == [[images[0]], [images[1]]]


def test_a_binding_shares_a_slice_with_the_service_account_it_names(tmp_path: Path) -> None:
    folder = overlay(tmp_path, ["a", "b", "c"], resources=["../base", "rbac.yaml"])
    subject = {"kind": "ServiceAccount", "name": "robot"}
    role = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"}
    write(
        folder,
        "rbac.yaml",
        obj("RoleBinding", "read", subjects=[subject], roleRef=role),
        obj("Role", "reader"),
    )
    write(tmp_path / "base", "robot.yaml", obj("ServiceAccount", "robot"))
    kust = yaml.safe_load((tmp_path / "base/kustomization.yaml").read_text())
    write(tmp_path / "base", "kustomization.yaml", dict(kust, resources=["robot.yaml", *kust["resources"]]))
    plan = kustomize_plan.plan(folder, size=1)
    together = slice_of(plan, "name: robot\n")
    assert len(together) == 1
    assert together == slice_of(plan, "kind: RoleBinding") == slice_of(plan, "kind: Role\n")


UNSET_ONLY = (
    "apiVersion: builtin\nkind: NamespaceTransformer\nmetadata: {name: ns, namespace: ns}\n"
    "unsetOnly: true\nsetRoleBindingSubjects: none\n"
)


def test_a_namespace_transformer_for_unset_namespaces_goes_to_every_slice(tmp_path: Path) -> None:
    plan = kustomize_plan.plan(overlay(tmp_path, ["a", "b", "c"], transformers=[UNSET_ONLY]), size=1)
    assert len(plan.slices) > 1
    assert all(kustomization(files)["transformers"] == [UNSET_ONLY] for files in plan.slices)


def test_a_components_resources_share_one_slice(tmp_path: Path) -> None:
    comp = tmp_path / "comp"
    write(comp, "kustomization.yaml", {"kind": "Component", "resources": ["extra.yaml"]})
    write(comp, "extra.yaml", obj("ConfigMap", "x"), obj("ConfigMap", "y"))
    plan = kustomize_plan.plan(overlay(tmp_path, ["a", "b"], components=["../comp"]), size=1)
    holding = slice_of(plan, "name: x\n")
    assert holding == slice_of(plan, "name: y\n")
    assert kustomization(plan.slices[holding[0]])["components"] == ["component0"]
    assert sum("components" in kustomization(f) for f in plan.slices) == 1


@pytest.mark.parametrize(
    ("keys", "reason"),
    [
        ({"configMapGenerator": [{"name": "g", "literals": ["a=b"]}]}, "uses configMapGenerator"),
        ({"namePrefix": "x-"}, "uses namePrefix"),
        ({"patches": [{"patch": "# nothing\n"}]}, "a patch is empty"),
        ({"patches": [{"path": "missing.yaml"}]}, "cannot be read"),
        (
            {"patches": [{"patch": "kind: Deployment\nmetadata: {name: nope}\n"}]},
            "matches no resource (Deployment nope)",
        ),
        (
            {"patches": [{"patch": "[]", "target": {"kind": "Deployment", "name": "a.*"}}]},
            "not one kind and one plain name",
        ),
        (
            {
                "patches": [
                    {
                        "patch": '[{"op": "replace", "path": "/metadata/name", "value": "z"}]',
                        "target": {"kind": "Deployment", "name": "a"},
                    }
                ]
            },
            "leaving metadata alone",
        ),
        ({"resources": ["https://example.com/remote.yaml"]}, "is not a file or a local folder"),
        ({"transformers": ["labels.yaml"]}, "uses transformers"),
        ({"transformers": [UNSET_ONLY.replace("unsetOnly: true", "unsetOnly: false")]}, "uses transformers"),
        ({"transformers": [UNSET_ONLY.replace("Namespace", "Prefix")]}, "uses transformers"),
    ],
)
def test_what_it_cannot_route_safely_is_built_whole(
    tmp_path: Path, keys: dict[str, Any], reason: str
) -> None:
    with pytest.raises(kustomize_plan.Whole, match=reason.replace("(", r"\(").replace(")", r"\)")):
        kustomize_plan.plan(overlay(tmp_path, ["a"], **keys))


def test_a_list_of_resources_is_built_whole(tmp_path: Path) -> None:
    folder = overlay(tmp_path, ["a"], resources=["../base", "list.yaml"])
    write(
        folder,
        "list.yaml",
        {"apiVersion": "v1", "kind": "List", "metadata": {}, "items": [obj("ConfigMap", "x")]},
    )
    with pytest.raises(kustomize_plan.Whole, match="a List of resources"):
        kustomize_plan.plan(folder)


def test_a_targeted_json_patch_of_one_named_resource_is_routed(tmp_path: Path) -> None:
    op = '[{"op": "replace", "path": "/spec/replicas", "value": 3}]'
    folder = overlay(
        tmp_path, ["a", "b"], patches=[{"patch": op, "target": {"kind": "Deployment", "name": "b"}}]
    )
    plan = kustomize_plan.plan(folder, size=1)
    routed = [i for i, files in enumerate(plan.slices) if kustomization(files).get("patches")]
    assert routed == slice_of(plan, "image: team/b")


def test_a_document_added_first_to_a_file_leaves_the_other_slices_alone(tmp_path: Path) -> None:
    folder = overlay(tmp_path, ["a", "b", "c"], resources=["../base", "budgets.yaml"])
    budgets = folder / "budgets.yaml"
    budgets.write_text("# Generated: do not edit.\n" + yaml.safe_dump_all([obj("PodDisruptionBudget", "c")]))
    before = kustomize_plan.plan(folder, size=1).slices
    budgets.write_text(
        "# Generated: do not edit.\n" + yaml.safe_dump_all([obj("PodDisruptionBudget", n) for n in "ac"])
    )
    after = kustomize_plan.plan(folder, size=1).slices
    assert [files in before for files in after] == [False, True, True]  # only a's slice changed
