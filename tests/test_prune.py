"""`doit images_prune`: the newest N content tags per repository stay, and so does every
recorded reference and every image a container uses. Docker is a fake on PATH."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tasks import config, prune
from testing.project import REPO, run_doit

FAKE = r'''
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")
if args[:1] == ["version"]:
    print("24.0.7")
elif args[:2] == ["image", "ls"]:
    rows = [("srvthreds/engine", f"{i:012x}", f"sha256:e{i}", f"2026-11-0{i} 10:00:00 +0000 UTC") for i in range(1, 7)]
    rows += [("srvthreds/engine", "latest", "sha256:e6", "2026-11-06 10:00:00 +0000 UTC"),
             ("srvthreds/builder", "00000000000a", "sha256:b1", "2026-11-01 10:00:00 +0000 UTC"),
             ("someone/else", "000000000001", "sha256:x1", "2026-11-01 10:00:00 +0000 UTC")]
    print("\n".join("\t".join(r) for r in rows))
elif args[:2] == ["ps", "-aq"]:
    print("c1")
elif args[:1] == ["inspect"]:
    print("sha256:e2")
'''


@pytest.fixture
def docker(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "fake.py").write_text(FAKE)
    (bin_dir / "docker").write_text(f'#!/bin/sh\nexec "{sys.executable}" "{tmp_path / "fake.py"}" "$@"\n')
    (bin_dir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), "/usr/bin", "/bin"]))
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_LOG", str(log))
    # This checkout built every engine tag the fake daemon lists (tasks/state.built_log).
    built(project, range(1, 7))
    return log


def built(project: Path, numbers: range) -> None:
    (project / ".build").mkdir(exist_ok=True)
    (project / ".build" / "built.txt").write_text("".join(f"srvthreds/engine:{i:012x}\n" for i in numbers))


def removed(log: Path) -> list[str]:
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    return [c[2] for c in calls if c[:2] == ["image", "rm"]]


def test_keeps_newest_recorded_and_used_tags(project: Path, docker: Path) -> None:
    # Another environment recorded tag 3; a (stopped) container uses the image of tag 2.
    recorded = project / ".build" / "minikube" / "minikube_images" / "engine.ref"
    recorded.parent.mkdir(parents=True)
    recorded.write_text("srvthreds/engine:000000000003\n")
    result = run_doit(project, "images_prune", "--keep", "2")
    assert result.code == 0, result.out
    assert removed(docker) == ["srvthreds/engine:000000000004", "srvthreds/engine:000000000001"]
    assert "2 old tag(s) removed" in result.out


def test_default_keeps_three(project: Path, docker: Path) -> None:
    assert run_doit(project, "images_prune").code == 0
    assert removed(docker) == ["srvthreds/engine:000000000003", "srvthreds/engine:000000000001"]


def test_tags_another_checkout_built_are_kept(project: Path, docker: Path) -> None:
    # A daemon shared with another checkout: its tags look like ours, but we did not build them.
    built(project, range(4, 7))
    assert run_doit(project, "images_prune", "--keep", "1").code == 0
    assert sorted(removed(docker)) == ["srvthreds/engine:000000000004", "srvthreds/engine:000000000005"]


def test_plan_never_touches_non_content_tags_or_other_repos() -> None:
    rows = [prune.Tagged("r/a", "latest", "sha256:1", "1"), prune.Tagged("r/a", "bookworm", "sha256:2", "2")]
    assert prune.plan(rows, keep=0, protected_refs=set(), used_ids=set()) == []


def test_builder_and_base_are_not_pushed() -> None:
    # push:<env> pushes what the cluster runs: the build-only images are not among them.
    names = config.load("dev", REPO).cluster_images()
    assert "builder" not in names and "base" not in names
    assert set(names) == {"engine", "session-agent", "persistence-agent", "bootstrap"}
