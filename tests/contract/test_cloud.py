"""`doit push` in a copy of the project, against recording fakes of `aws` and `docker` on PATH."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from testing import harness
from testing.project import run_doit


@pytest.fixture
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(project)
    return project


FAKE_AWS_DOCKER = """#!{python}
import json, os, sys
name = os.path.basename(sys.argv[0])
args = sys.argv[1:]
stdin = sys.stdin.read() if args[:1] == ["login"] else ""
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps([name, *args] + ([{{"stdin": stdin}}] if stdin else [])) + "\\n")
if name == "aws" and args[:2] == ["ecr", "get-login-password"]:
    print("s3cr3t-token")
if name == "docker" and args[:1] == ["build"]:
    import hashlib
    iid = args[args.index("--iidfile") + 1]
    salted = " ".join(args) + os.environ.get("FAKE_SALT", "")
    open(iid, "w").write("sha256:" + hashlib.sha256(salted.encode()).hexdigest())
if name == "docker" and args[:2] == ["image", "ls"]:
    # The daemon holds every image recorded under .build/ (so they are up to date).
    import glob
    for ref in glob.glob(".build/*/images/*.ref"):
        print(open(ref[:-4] + ".iid").read().strip(), open(ref).read().strip())
if name == "skopeo" and args[:1] == ["inspect"]:
    # ECR: it has what FAKE_PRESENT names and what `docker push` sent (the log says what).
    ref = args[-1].removeprefix("docker://")
    present = os.environ.get("FAKE_PRESENT", "").split(",")
    with open(os.environ["FAKE_LOG"]) as log:
        pushed = [json.loads(line)[2:] for line in log if line.startswith('["docker", "push"')]
    if not (any(ref.endswith("/" + r) for r in present if r) or [ref] in pushed):
        sys.stderr.write("manifest unknown\\n")
        sys.exit(1)
    print(json.dumps({{"fake": ref}}))
"""


@pytest.fixture
def aws_docker(in_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Recording `aws`, `docker` and `skopeo` first on PATH; returns the log file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("aws", "docker", "skopeo"):
        harness.script(bin_dir, name, FAKE_AWS_DOCKER.format(python=sys.executable))
    log = tmp_path / "calls.jsonl"
    log.touch()
    monkeypatch.setenv("PATH", harness.fake_path(bin_dir))
    monkeypatch.setenv("FAKE_LOG", str(log))
    return log


def _calls(log: Path) -> list[list[Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def _write_refs(project: Path, env: str, refs: dict[str, str]) -> None:
    folder = project / ".build" / env / "images"
    folder.mkdir(parents=True, exist_ok=True)
    for name, ref in refs.items():
        (folder / f"{name}.ref").write_text(ref + "\n")
        (folder / f"{name}.iid").write_text(f"sha256:{ref.rsplit(':', 1)[1]}\n")


def test_push_via_doit_is_incremental(
    aws_docker: Path, in_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # push:dev pushes dev's images, so it builds them first when they are stale (fake docker here).
    result = run_doit(in_project, "push:dev")
    assert result.code == 0, result.out
    engine = (in_project / ".build/dev/images/engine.ref").read_text().strip()
    reg = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
    pushed = [c for c in _calls(aws_docker) if c[1] == "push"]
    assert [f"{reg}/{engine}"] in [c[2:] for c in pushed]
    assert not any("builder" in c[2] for c in pushed)  # only what runs in the cluster is pushed
    assert "push:dev" not in run_doit(in_project, "push:dev").executed()  # same content: nothing to do
    (in_project / "demo/srvthreds_demo/engine.py").write_text("# changed\n", encoding="utf-8")
    monkeypatch.setenv("FAKE_SALT", "new content")  # the fake's builds now yield new image IDs
    again = run_doit(in_project, "push:dev")
    assert "images:engine" in again.executed() and "push:dev" in again.executed()


def test_a_push_whose_record_folder_is_a_file_is_one_error_with_a_fix(
    aws_docker: Path, in_project: Path
) -> None:
    (in_project / "deploy").mkdir(exist_ok=True)
    (in_project / "deploy/dev").write_text("in the way\n")
    result = run_doit(in_project, "push:dev")
    assert result.code == 1 and "Traceback" not in result.out, result.out
    assert "cannot write the release record deploy/dev/release.yaml" in result.out
    assert "make deploy/dev/ a writable folder" in result.out
