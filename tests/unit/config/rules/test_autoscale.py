"""Autoscaling refused at its key (tasks/config/rules/autoscale.py): a range that is none, a job,
and a fixed count the same file sets against the range."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.config.rules import autoscale as rules
from testing.configs import KUBE, broken, line_of, load, read, refused, small_project, stack


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_project(tmp_path)


def test_autoscale_min_is_at_most_max(root: Path) -> None:
    env = {**KUBE, "services": {"web": {"autoscale": {"min": 5, "max": 3}}}}
    err = broken(rules.autoscale_min_is_at_most_max, root, None, env)
    assert (err.file, err.keypath) == ("environments/test.yaml", "services.web.autoscale.min")
    assert err.line == line_of(root, "test.yaml", "min: 5")
    assert (
        err.problem == "autoscale min 5 is more than max 3: the autoscaler has no replica count it may choose"
    )
    assert err.fix == "lower min to 3 or less, or raise max to 5 or more"
    rules.autoscale_min_is_at_most_max(
        read(root, None, {**KUBE, "services": {"web": {"autoscale": {"min": 3, "max": 3}}}})
    )


def test_autoscale_min_is_at_most_max_across_files(root: Path) -> None:
    """The stack's range, its max lowered by an environment: the merged range is judged, and the
    error is at the environment's `max`, the value that made it wrong."""
    data = stack()
    data["services"]["web"]["autoscale"] = {"min": 4, "max": 8}
    err = broken(
        rules.autoscale_min_is_at_most_max,
        root,
        data,
        {**KUBE, "services": {"web": {"autoscale": {"max": 2}}}},
    )
    assert (err.file, err.keypath) == ("environments/test.yaml", "services.web.autoscale.max")
    assert err.line == line_of(root, "test.yaml", "max: 2")
    assert err.problem.startswith("autoscale min 4 is more than max 2")


def test_autoscale_min_is_at_most_max_blames_an_environment_min_above_the_stack_max(root: Path) -> None:
    data = stack()
    data["services"]["web"]["autoscale"] = {"min": 2, "max": 3}
    env = {**KUBE, "services": {"web": {"autoscale": {"min": 5}}}}
    err = broken(rules.autoscale_min_is_at_most_max, root, data, env)
    assert (err.file, err.keypath) == ("environments/test.yaml", "services.web.autoscale.min")
    assert err.line == line_of(root, "test.yaml", "min: 5")


def test_only_deployments_autoscale(root: Path) -> None:
    env = {**KUBE, "services": {"migrate": {"autoscale": {"min": 1, "max": 2}}}}
    err = broken(rules.only_deployments_autoscale, root, None, env)
    assert (err.file, err.keypath) == ("environments/test.yaml", "services.migrate.autoscale")
    assert (
        err.problem == "job 'migrate' declares autoscale, but a job runs once and no autoscaler scales a job"
    )
    assert err.fix == "remove `autoscale:` from the job (or make it a deployment, which runs replicas)"


@pytest.mark.parametrize("count", [0, 1, 7])
def test_replicas_agree_with_autoscale(root: Path, count: int) -> None:
    env = {**KUBE, "services": {"web": {"replicas": count, "autoscale": {"min": 2, "max": 6}}}}
    err = broken(rules.replicas_agree_with_autoscale, root, None, env)
    assert (err.file, err.keypath) == ("environments/test.yaml", "services.web.replicas")
    assert err.problem == (
        f"replicas {count} is outside autoscale's range 2..6 of 'web' in the same environment: "
        "the autoscaler would change it at once"
    )
    assert err.fix == "remove `replicas:` (the autoscaler starts at min 2), or set it within 2..6"


def test_replicas_agree_with_autoscale_when_the_environment_sets_the_count(root: Path) -> None:
    """The stack autoscales; an environment's own count outside the range is refused too."""
    data = stack()
    data["services"]["web"]["autoscale"] = {"min": 2, "max": 6}
    err = broken(
        rules.replicas_agree_with_autoscale, root, data, {**KUBE, "services": {"web": {"replicas": 0}}}
    )
    assert (err.file, err.keypath) == ("environments/test.yaml", "services.web.replicas")


def test_an_earlier_files_count_is_brought_into_the_range(root: Path) -> None:
    """The stack's replicas 1 under the environment's autoscale: no error, the floor wins."""
    data = stack()
    data["services"]["web"]["replicas"] = 1
    env = {**KUBE, "services": {"web": {"autoscale": {"min": 3, "max": 5, "cpu": 60}}}}
    rules.replicas_agree_with_autoscale(read(root, data, env))
    web = load(root, data, env).services["web"]
    assert (web.replicas, web.floor, web.autoscale) == (3, 3, web.autoscale)
    assert web.autoscale is not None and (web.autoscale.min, web.autoscale.max, web.autoscale.cpu) == (
        3,
        5,
        60,
    )
    # A count within the range, in the same file, is kept.
    env["services"]["web"]["replicas"] = 4
    assert load(root, data, env).services["web"].replicas == 4


def test_the_cpu_target_defaults_to_70_and_is_a_percentage(root: Path) -> None:
    env = {**KUBE, "services": {"web": {"autoscale": {"min": 1, "max": 2}}}}
    scale = load(root, None, env).services["web"].autoscale
    assert scale is not None and scale.cpu == 70
    env["services"]["web"]["autoscale"]["cpu"] = 150
    err = refused(root, None, env)
    assert (err.keypath, err.problem) == ("services.web.autoscale.cpu", "150 is not between 1 and 100")


def test_the_hpa_component_says_where_autoscaling_went(root: Path) -> None:
    err = refused(root, None, {**KUBE, "components": ["hpa"]})
    assert err.keypath == "components[0]"
    assert "the hpa component is gone" in err.problem and "autoscale" in str(err.fix)
