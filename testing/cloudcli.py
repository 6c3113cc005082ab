"""Fixtures for tests of the cloud operations and their adapters (tasks/ops/cloud.py,
tasks/ops/checkov.py, tasks/programs/aws.py, tasks/programs/checkov.py): recording fakes of
`aws`, `docker`, `skopeo` and `checkov` first on PATH.

Import the fixture by name (`from testing.cloudcli import cloud_fakes`) and list it in the test
module's `__all__`. Each call is logged with its argv, the colour variables checkov is given, and
what `docker login` read on stdin.

- `aws ecr get-login-password` prints `s3cr3t-token`;
- `docker manifest inspect REF` succeeds for a REF ending in one of FAKE_PRESENT (comma-separated);
- `skopeo inspect --raw docker://REF` prints a small manifest for such a REF, or one `docker push`
  or `docker manifest push` sent earlier, and fails with `manifest unknown` for any other;
- `checkov --framework F` prints a summary line, and fails with one finding for a framework in
  FAKE_CHECKOV_FAIL; a framework in FAKE_CHECKOV_SILENT passes without printing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from testing import harness

REGISTRY = "123456789012.dkr.ecr.us-west-2.amazonaws.com"  # the test project's cloud registry

FAKE = """#!{python}
import json, os, sys
name = os.path.basename(sys.argv[0])
args = sys.argv[1:]
stdin = sys.stdin.read() if name == "docker" and args[:1] == ["login"] else None
with open(os.environ["FAKE_LOG"], "a") as log:
    env = {{k: os.environ.get(k) for k in ("NO_COLOR", "ANSI_COLORS_DISABLED")}}
    log.write(json.dumps({{"argv": [name, *args], "env": env, "stdin": stdin}}) + "\\n")
if name == "aws" and args[:2] == ["ecr", "get-login-password"]:
    print("s3cr3t-token")
if name == "skopeo" and args[:1] == ["inspect"]:
    ref = args[-1].removeprefix("docker://")
    present = [r for r in os.environ.get("FAKE_PRESENT", "").split(",") if r]
    with open(os.environ["FAKE_LOG"]) as log:
        sent = [json.loads(line)["argv"] for line in log]
    pushed = [argv[2:] for argv in sent if argv[:2] == ["docker", "push"]]
    lists = [argv[-1] for argv in sent if argv[:3] == ["docker", "manifest", "push"]]
    if not (any(ref.endswith(r) for r in present) or [ref] in pushed or ref in lists):
        sys.stderr.write("manifest unknown\\n")
        sys.exit(1)
    print(json.dumps({{"fake": ref}}))
if name == "docker" and args[:2] == ["manifest", "inspect"]:
    present = [ref for ref in os.environ.get("FAKE_PRESENT", "").split(",") if ref]
    sys.exit(0 if any(args[2].endswith(ref) for ref in present) else 1)
if name == "checkov":
    framework = args[args.index("--framework") + 1]
    if framework in os.environ.get("FAKE_CHECKOV_SILENT", "").split(","):
        sys.exit(0)
    failing = framework in os.environ.get("FAKE_CHECKOV_FAIL", "").split(",")
    print("Passed checks: 4, Failed checks: %d, Skipped checks: 0" % failing)
    if failing:
        print("Check: CKV_X_1: " + framework)
    sys.exit(1 if failing else 0)
"""


@pytest.fixture
def cloud_fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Recording `aws`, `docker` and `checkov` first on PATH; returns their call log."""
    bin_dir = tmp_path / "cloud-bin"
    bin_dir.mkdir()
    for name in ("aws", "docker", "checkov", "skopeo"):
        harness.script(bin_dir, name, FAKE.format(python=sys.executable))
    log = tmp_path / "cloud-calls.jsonl"
    log.touch()
    monkeypatch.setenv("PATH", harness.fake_path(bin_dir))
    monkeypatch.setenv("FAKE_LOG", str(log))
    for name in ("FAKE_PRESENT", "FAKE_CHECKOV_FAIL", "FAKE_CHECKOV_SILENT", "CI"):
        monkeypatch.delenv(name, raising=False)
    return log


def logged(log: Path) -> list[dict[str, Any]]:
    """Every call, oldest first: {"argv", "env", "stdin"}."""
    return [json.loads(line) for line in log.read_text().splitlines()]


def calls(log: Path) -> list[list[str]]:
    """The argv of every call, oldest first."""
    return [call["argv"] for call in logged(log)]


def write_ref(env: str, name: str, ref: str, images: str = "images") -> None:
    """Record `ref` as the built image `name` of `env` (.build/<env>/<images>/<name>.ref; a
    foreign platform's in images-arm64)."""
    folder = Path(".build") / env / images
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.ref").write_text(ref + "\n")
