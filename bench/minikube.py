"""Benchmark `doit minikube_up` on the fakes: no-op vs forced (-a) time, and how many
mutating cluster calls each scenario makes. Run: .venv/bin/python bench/minikube.py [N]

Uses the same project copy, fake minikube/kubectl and fake docker (testing/) as tests/test_minikube.py,
so the numbers measure stackbuild's own overhead (doit loading, live checks, process
spawns), not a real cluster.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testing.fakes import docker as fake_docker
from testing.fakes.cluster import FakeCluster
from testing.fakes.k8s import fake_env, install_fakes
from testing.minikube_env import write_test_env
from testing.project import copy_project, run_doit


def main(n: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="stackbuild-bench-"))
    try:
        project = copy_project(tmp / "project")
        env = write_test_env(project)
        bin_dir = install_fakes(tmp / "bin")
        fake_docker.install(bin_dir, tmp / "docker")
        (tmp / "state").mkdir()
        os.environ.update(fake_env(tmp / "state", bin_dir))
        os.environ["FAKE_DOCKER_HOST"] = "fake://minikube"
        cluster = FakeCluster(tmp / "state", profile="mktest")

        rows: list[tuple[str, str, int, int]] = []

        def scenario(label: str, *extra: str) -> float:
            cluster.clear_calls()
            start = time.perf_counter()
            result = run_doit(project, *extra, "minikube_up", f"env={env}")
            took = time.perf_counter() - start
            if result.code != 0:
                raise SystemExit(f"{label} failed:\n{result.out}")
            rows.append((label, f"{took:.2f}", len(cluster.calls()), len(cluster.mutating_calls())))
            return took

        scenario("first run")
        noop = [scenario("no-op") for _ in range(n)]
        forced = [scenario("forced (-a)", "-a") for _ in range(n)]
        module = project / "demo/srvthreds_demo/engine.py"
        module.write_text(module.read_text() + "\n# bench change\n")
        scenario("one service changed")
        cluster.delete_namespace("srvthreds")
        scenario("namespace deleted")
        cluster.recreate_cluster()
        scenario("cluster recreated")

        seen: set[str] = set()
        print(f"{'scenario':<22} {'seconds':>8} {'cluster calls':>14} {'mutating':>9}")
        for label, secs, calls, mutating in rows:
            if label in seen:
                continue  # repeated runs are summarised below
            seen.add(label)
            print(f"{label:<22} {secs:>8} {calls:>14} {mutating:>9}")
        print(
            f"\nmedian of {n}: no-op {statistics.median(noop):.2f} s, "
            f"forced (-a) {statistics.median(forced):.2f} s"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
