"""Rules about values Docker refuses only when a container is created (`compose up`), or that the
rendered files would silently drop: each is refused here with the range Docker accepts."""

from __future__ import annotations

from tasks.config.merged import Merged
from tasks.config.rules.services import cpu_millis, memory_bytes

# Docker (daemon/daemon_unix.go): "Range of CPUs is from 0.01 to ..." and "Minimum memory limit
# allowed is 6MB" (the reservation has the same minimum). Every environment's Compose files
# carry them, whatever its runtime.
MIN_CPU_MILLIS = 10
MIN_MEMORY = 6 * 2**20


def resources_are_what_docker_accepts(m: Merged) -> None:
    for name, raw in m.data["services"].items():
        resources = raw["resources"]
        for kind in ("limits", "requests"):
            at = ("services", name, "resources", kind)
            cpu, memory = str(resources[kind]["cpu"]), str(resources[kind]["memory"])
            # Compose drops a CPU reservation outside Swarm; a CPU limit below 0.01 is refused.
            if kind == "limits" and cpu_millis(cpu) < MIN_CPU_MILLIS:
                raise m.error(
                    at + ("cpu",),
                    f"a CPU limit of {cpu} is below what Docker accepts (10m, `cpus: 0.01`)",
                    "use 10m or more",
                )
            if memory_bytes(memory) < MIN_MEMORY:
                raise m.error(
                    at + ("memory",),
                    f"a memory {kind[:-1]} of {memory} is below what Docker accepts (6Mi)",
                    "use 6Mi or more",
                )


def jobs_run_one_container(m: Merged) -> None:
    """A job runs once, as one container: its replicas would be dropped without a word."""
    for name, raw in m.data["services"].items():
        if raw.get("kind", "deployment") == "job" and raw.get("replicas", 1) != 1:
            raise m.error(
                ("services", name, "replicas"),
                f"job {name!r} has replicas {raw['replicas']}, but a job runs one container (accepted: 1)",
                "remove `replicas:` (or make it a deployment, which runs replicas)",
            )
