"""Rules about autoscaling (`services.<name>.autoscale`): a range that is one, on a workload that
can scale, and no fixed `replicas` the same file sets against it."""

from __future__ import annotations

from tasks.config.merged import Merged


def autoscale_min_is_at_most_max(m: Merged) -> None:
    """Blamed at the bound the later file set: that value made a range that was one none (an
    environment lowering the stack's max is wrong in the environment, not in stack.yaml)."""
    for name, raw in m.data["services"].items():
        scale = raw.get("autoscale")
        if scale and scale["min"] > scale["max"]:
            at_min = ("services", name, "autoscale", "min")
            at_max = ("services", name, "autoscale", "max")
            raise m.error(
                at_max if _file_of(m, at_max) > _file_of(m, at_min) else at_min,
                f"autoscale min {scale['min']} is more than max {scale['max']}: the autoscaler has no "
                "replica count it may choose",
                f"lower min to {scale['max']} or less, or raise max to {scale['min']} or more",
            )


def only_deployments_autoscale(m: Merged) -> None:
    """A job runs once, to completion: a HorizontalPodAutoscaler cannot scale it."""
    for name, raw in m.data["services"].items():
        if raw.get("kind", "deployment") == "job" and "autoscale" in raw:
            raise m.error(
                ("services", name, "autoscale"),
                f"job {name!r} declares autoscale, but a job runs once and no autoscaler scales a job",
                "remove `autoscale:` from the job (or make it a deployment, which runs replicas)",
            )


def _file_of(m: Merged, path: tuple[str, ...]) -> int:
    """Index in m.docs of the last file that sets `path` or a key under it; -1 when none does."""
    found = -1
    for i, doc in enumerate(m.docs):
        if any(key[: len(path)] == path for key in doc.lines):
            found = i
    return found


def replicas_agree_with_autoscale(m: Merged) -> None:
    """`replicas` is the Deployment's starting count; the autoscaler moves it at once into its
    range. A count the same or a later file sets outside the range says two things at once
    (an earlier file's count, the stack's 1, is brought into the range: build.replicas)."""
    for name, raw in m.data["services"].items():
        scale = raw.get("autoscale")
        if not scale or "replicas" not in raw:
            continue
        at = ("services", name, "replicas")
        if _file_of(m, at) < _file_of(m, ("services", name, "autoscale")):
            continue
        if not scale["min"] <= raw["replicas"] <= scale["max"]:
            raise m.error(
                at,
                f"replicas {raw['replicas']} is outside autoscale's range {scale['min']}..{scale['max']} "
                f"of {name!r} in the same environment: the autoscaler would change it at once",
                f"remove `replicas:` (the autoscaler starts at min {scale['min']}), or set it within "
                f"{scale['min']}..{scale['max']}",
            )
