"""Benchmark a foreign platform's images against the host's (real Docker, real debootstrap).

    flock /tmp/stackbuild-docker.lock .venv/bin/python bench/platforms.py [-n 3]

For the host's platform and the other one (linux/arm64 on an amd64 machine, run under qemu's
emulation), each round makes the debootstrap base as `doit images` does
(tasks/ops/docker_images.py), then an image on it whose one RUN step is what a Python service
needs (`apt-get install python3-minimal` from Debian's mirror, then `useradd`). Rounds
alternate which platform goes first, so both see the same load. Prints the median seconds of
each step per platform and the foreign/host ratio. Needs emulation (scripts/ci-docker.sh sets
it up); removes every image it made.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tasks.ops import docker_images, platforms
from tasks.programs import tools
from tasks.store import images

# What a Python service's image does on the base: Debian's Python from the mirror, a user.
DOCKERFILE = (
    "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"
    "RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-minimal >/dev/null"
    " && useradd -u 10001 app\n"
    "USER 10001\n"
)


def one_round(platform: str, work: Path, made: list[str]) -> tuple[float, float]:
    """(seconds for the base, seconds for the image on it) of one platform."""
    foreign = None if platform == platforms.host() else platform
    tag = f"{images.arch(platform)}-{uuid.uuid4().hex[:8]}"
    start = time.perf_counter()
    base = docker_images.debootstrap_base(
        f"base@{tag}",
        suite="bookworm",
        repo="stackbuild-bench/base",
        iid=work / f"{tag}.base.iid",
        ref=work / f"{tag}.base.ref",
        docker_env={},
        platform=foreign,
    )
    made.append(base)
    based = time.perf_counter()
    (work / "Dockerfile").write_text(DOCKERFILE + f"LABEL round={tag}\n")
    made.append(
        docker_images.build(
            f"app@{tag}",
            dockerfile=str(work / "Dockerfile"),
            context=str(work),
            args={"BASE_IMAGE": base},
            repo="stackbuild-bench/app",
            iid=work / f"{tag}.app.iid",
            ref=work / f"{tag}.app.ref",
            docker_env={},
            platform=foreign,
        )
    )
    return based - start, time.perf_counter() - based


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", type=int, default=3, help="rounds (default 3)")
    args = parser.parse_args()
    host = platforms.host()
    other = "linux/arm64" if host == "linux/amd64" else "linux/amd64"
    if not platforms.emulated(other):
        print(f"this machine cannot run {other} programs: {platforms.EMULATION_FIX}", file=sys.stderr)
        return 2
    times: dict[str, list[tuple[float, float]]] = {host: [], other: []}
    made: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="stackbuild-bench-platforms-") as folder:
            for i in range(args.n):
                order = (host, other) if i % 2 == 0 else (other, host)
                for platform in order:
                    times[platform].append(one_round(platform, Path(folder), made))
    finally:
        tools.run("docker", "image", "rm", "-f", *made, check=False)

    def median(platform: str, step: int) -> float:
        return statistics.median(t[step] for t in times[platform])

    print(f"\nmedian seconds of {args.n} rounds, paired (host: {host})\n")
    print(f"| step | {host} | {other} (emulated) | ratio |")
    print("|---|---:|---:|---:|")
    for step, label in (
        (0, "debootstrap base (minbase)"),
        (1, "image on it (apt-get install python3-minimal)"),
    ):
        h, o = median(host, step), median(other, step)
        print(f"| {label} | {h:.1f} | {o:.1f} | {o / h:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
