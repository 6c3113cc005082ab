"""Contract tests of the compose tasks, no Docker: recording fakes of `docker-compose` and
`docker` come first on PATH, and the image build is replaced by a stub that only writes
.ref files (the image contract), so every test runs in well under a second."""
from __future__ import annotations

import json
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from tasks import compose_tasks as ct
from tasks.ops import compose as cops
from tests.fixtures import DoitRun, run_doit

ENV = "offline"

# One fake for both programs: state in $FAKE_STATE, every call appended to $FAKE_LOG.
FAKE = r'''
import json, os, sys
prog, args = os.path.basename(sys.argv[1]), sys.argv[2:]
state_path, log_path = os.environ["FAKE_STATE"], os.environ["FAKE_LOG"]
state = json.load(open(state_path)) if os.path.exists(state_path) else {"running": {}, "volumes": 1}
images = {k: v for k, v in os.environ.items() if k.endswith("_IMAGE")}
with open(log_path, "a") as log:
    log.write(json.dumps({"prog": prog, "args": args, "images": images}) + "\n")
fail = os.environ.get("FAKE_FAIL", "")
def save():
    json.dump(state, open(state_path, "w"))
if prog == "docker":
    if args[:1] == ["ps"]:
        for svc, st in state["running"].items():
            print(f"{svc}\t{'running'}\tUp 1 minute ({st})")
    elif args[:2] == ["volume", "inspect"]:
        for name in args[4:]:
            print(f"{name} gen{state['volumes']}")
    sys.exit(0)
while args and args[0].startswith("-"):  # global flags: all take one value
    args = args[2:]
cmd, rest = args[0], args[1:]
names = [a for a in rest if not a.startswith("-") and not a.isdigit()]
if cmd == "up":
    for name in names:
        state["running"][name] = "unhealthy" if name == fail else "healthy"
        state.setdefault("images", {})[name] = images.get(name.upper().replace("-", "_") + "_IMAGE", name)
    save()
    if fail in names:
        print(f" Container srvthreds-offline-{fail}-1 Started", file=sys.stderr)
        print(f"container srvthreds-offline-{fail}-1 is unhealthy", file=sys.stderr)
        sys.exit(1)
elif cmd == "down":
    state["running"] = {}
    if "--volumes" in rest:
        state["volumes"] += 1
    save()
elif cmd == "ps":
    for svc, st in state["running"].items():
        image = state.get("images", {}).get(svc, "")
        print(json.dumps({"Service": svc, "State": "running", "Health": st, "Image": image}))
elif cmd == "run" and os.environ.get("FAKE_RUN_FAIL"):
    print(os.environ["FAKE_RUN_FAIL"], file=sys.stderr)
    sys.exit(1)
elif cmd == "logs":
    print(f"{names[-1]}-1  | rabbitmq: something went wrong")
elif cmd == "config":
    secret = [l.split("=", 1)[1] for l in open(os.environ["FAKE_ENV_FILE"]) if l.startswith("RABBITMQ_PASSWORD=")][0]
    print(f"services:\n  rabbitmq:\n    environment:\n      RABBITMQ_PASSWORD: {secret}")
'''

# Replaces the real image build (tasks/image_tasks.py) in the copy: writes .ref files only.
STUB_IMAGES = '''

import json as _json
from pathlib import Path as _Path
from tasks import config as _config, images as _images


def task_images():
    """Stub build: writes .ref files; tags come from fake-tags.json."""
    env = RUN.env_for("images")
    cfg = _config.load(env, _Path.cwd())
    tags_file = _Path("fake-tags.json")
    tags = _json.loads(tags_file.read_text()) if tags_file.exists() else {}
    for name in ["base", "builder", *cfg.built_images()]:
        ref = _images.ref_file(env, name)
        want = f"srvthreds/{name}:{tags.get(name, 'tag1')}"
        def build(ref=ref, want=want):
            ref.parent.mkdir(parents=True, exist_ok=True)
            ref.write_text(want + "\\n")
            with open("hooks.log", "a") as log:
                log.write(f"build {ref.stem}\\n")
        yield {"name": name, "actions": [build],
               "uptodate": [lambda ref=ref, want=want: ref.exists() and ref.read_text().strip() == want]}
'''


@pytest.fixture
def stack(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project copy with fakes on PATH and the stub image build."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = tmp_path / "fake.py"
    script.write_text(FAKE)
    for prog in ("docker", "docker-compose"):
        path = bin_dir / prog
        path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$0" "$@"\n')
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent),
                                                os.environ.get("PATH", "")]))
    monkeypatch.setenv("FAKE_STATE", str(tmp_path / "state.json"))
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "calls.jsonl"))
    monkeypatch.setenv("FAKE_ENV_FILE", str(project / "compose" / ENV / ".env"))
    (project / "compose" / ENV / ".env").unlink(missing_ok=True)
    with (project / "dodo.py").open("a") as dodo:
        dodo.write(STUB_IMAGES)
    return project


def calls(project: Path, prog: str = "docker-compose") -> list[dict[str, Any]]:
    """The calls of `prog` since the previous `calls()` (which forgets every program's calls)."""
    log = project.parent / "calls.jsonl"
    if not log.exists():
        return []
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    log.unlink()
    return [r for r in rows if r["prog"] == prog]


def verbs(rows: list[dict[str, Any]]) -> list[list[str]]:
    """The compose subcommand and its arguments, global flags stripped."""
    out = []
    for row in rows:
        args = row["args"]
        while args and args[0].startswith("-"):
            args = args[2:]
        out.append(args)
    return out


def up(project: Path, *extra: str) -> DoitRun:
    result = run_doit(project, *extra, "compose_up", f"env={ENV}")
    assert result.code == 0, result.out
    return result


def test_every_public_task_is_listed_with_a_doc(stack: Path) -> None:
    listed = run_doit(stack, f"env={ENV}", command="list").out
    for name in ct.PUBLIC:
        line = next((l for l in listed.splitlines() if l.split() and l.split()[0] == name), "")
        assert len(line.split()) > 1, f"{name} missing or without doc:\n{listed}"
    for new in ct.ALIASES.values():
        assert f"alias of {new}" in listed
    assert "_compose_env" not in listed  # internal helper stays private


def test_up_runs_dbs_then_services_then_bootstrap_with_both_files_and_refs(stack: Path) -> None:
    up(stack)
    rows = calls(stack)
    assert verbs(rows) == [
        ["up", "-d", "--wait", "--wait-timeout", "120", "redis", "rabbitmq"],
        ["up", "-d", "--wait", "--wait-timeout", "120", "engine", "session-agent"],
        ["run", "--rm", "-T", "bootstrap"],
    ]
    for row in rows:
        assert row["args"][:7] == ["--project-directory", f"compose/{ENV}",
                                   "-f", f"compose/{ENV}/docker-compose-db.yml",
                                   "-f", f"compose/{ENV}/docker-compose-services.yml", "--env-file"]
        # Every built image is passed, so compose sees one consistent project.
        assert row["images"]["ENGINE_IMAGE"] == "srvthreds/engine:tag1"
        assert row["images"]["REDIS_IMAGE"] == "srvthreds/redis:tag1"
        assert row["images"]["BOOTSTRAP_IMAGE"] == "srvthreds/bootstrap:tag1"


def test_env_file_is_created_once_with_mode_600_and_never_printed(stack: Path) -> None:
    result = up(stack)
    env_file = stack / "compose" / ENV / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    secret = values["RABBITMQ_PASSWORD"]
    assert len(secret) >= 24
    assert secret not in result.out
    assert "created compose/offline/.env" in result.out
    before = env_file.read_bytes()
    up(stack, "-a")
    assert env_file.read_bytes() == before


def test_existing_env_file_is_kept_and_must_be_private(stack: Path) -> None:
    env_file = stack / "compose" / ENV / ".env"
    env_file.write_text("RABBITMQ_PASSWORD=mine\n")
    env_file.chmod(0o644)
    refused = run_doit(stack, "compose_up", f"env={ENV}")
    assert refused.code != 0 and f"chmod 600 compose/{ENV}/.env" in refused.out
    assert '"prog": "docker-compose"' not in (stack.parent / "calls.jsonl").read_text()  # nothing started
    env_file.chmod(0o600)
    up(stack)
    assert env_file.read_text() == "RABBITMQ_PASSWORD=mine\n"


def test_placeholder_password_is_refused_outside_local(stack: Path) -> None:
    env_file = stack / "compose" / ENV / ".env"
    fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("RABBITMQ_PASSWORD=change-me\n")
    refused = run_doit(stack, "compose_up", f"env={ENV}")
    assert refused.code != 0 and "still hold the placeholder 'change-me'" in refused.out


def test_compose_ps_is_a_table_with_verdicts_and_exit_code(stack: Path) -> None:
    before = run_doit(stack, "compose_ps", f"env={ENV}")
    assert before.code != 0 and re.search(r"service/engine .* stale \(not started\)", before.out), before.out
    up(stack)
    fine = run_doit(stack, "compose_ps", f"env={ENV}")
    assert fine.code == 0, fine.out
    assert re.search(r"service/engine +1 +1 +\S+ +yes +ok", fine.out), fine.out
    state = json.loads((stack.parent / "state.json").read_text())
    state["running"]["engine"] = "unhealthy"
    (stack.parent / "state.json").write_text(json.dumps(state))
    broken = run_doit(stack, "compose_ps", f"env={ENV}")
    assert broken.code != 0 and re.search(r"service/engine .* failed \(unhealthy\)", broken.out), broken.out


def test_noop_up_calls_nothing_but_one_ps(stack: Path) -> None:
    up(stack)
    calls(stack)
    calls(stack, "docker")
    result = up(stack)
    log = (stack.parent / "calls.jsonl").read_text()
    assert '"prog": "docker-compose"' not in log, result.out
    assert not {"compose_up_dbs", "compose_up_services", "compose_jobs"} & set(result.executed())
    docker = [r["args"][0] for r in calls(stack, "docker")]
    assert docker.count("ps") == 1  # one `docker ps`, shared by every up task


def test_changed_image_reruns_only_its_step_with_all_refs(stack: Path) -> None:
    up(stack)
    calls(stack)
    (stack / "fake-tags.json").write_text(json.dumps({"engine": "tag2"}))
    up(stack)
    rows = calls(stack)
    assert verbs(rows) == [["up", "-d", "--wait", "--wait-timeout", "120", "engine", "session-agent"]]
    assert rows[0]["images"]["ENGINE_IMAGE"] == "srvthreds/engine:tag2"
    assert rows[0]["images"]["SESSION_AGENT_IMAGE"] == "srvthreds/session-agent:tag1"


def test_bootstrap_reruns_when_its_image_changes(stack: Path) -> None:
    up(stack)
    calls(stack)
    (stack / "fake-tags.json").write_text(json.dumps({"bootstrap": "tag2"}))
    up(stack)
    assert verbs(calls(stack)) == [["run", "--rm", "-T", "bootstrap"]]


def test_stopped_containers_are_started_again_but_bootstrap_not(stack: Path) -> None:
    up(stack)
    calls(stack)
    assert run_doit(stack, "compose_down", f"env={ENV}").code == 0
    assert verbs(calls(stack)) == [["down", "--remove-orphans"]]  # data volumes kept
    up(stack)
    assert [v[0] for v in verbs(calls(stack))] == ["up", "up"]


def test_wipe_deletes_volumes_and_bootstrap_runs_again(stack: Path) -> None:
    up(stack)
    calls(stack)
    assert run_doit(stack, "compose_down", f"env={ENV}", "wipe=1").code == 0
    assert verbs(calls(stack)) == [["down", "--remove-orphans", "--volumes"]]
    up(stack)
    assert [v[0] for v in verbs(calls(stack))] == ["up", "up", "run"]


def test_unhealthy_database_names_it_with_its_logs_and_is_not_recorded(
        stack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_FAIL", "rabbitmq")
    result = run_doit(stack, "compose_up", f"env={ENV}")
    assert result.code != 0
    assert "rabbitmq failed to start or become healthy" in result.out
    assert "is unhealthy" in result.out
    assert "last 20 log lines of rabbitmq" in result.out
    assert "something went wrong" in result.out
    assert "redis failed" not in result.out
    assert "Traceback" not in result.out
    assert ["logs", "--no-color", "--tail", "20", "rabbitmq"] in verbs(calls(stack))
    monkeypatch.setenv("FAKE_FAIL", "")
    up(stack)
    assert [v[0] for v in verbs(calls(stack))] == ["up", "up", "run"]  # the failure left nothing recorded


def test_config_prints_effective_configuration_with_secrets_masked(stack: Path) -> None:
    result = run_doit(stack, "compose_config", f"env={ENV}")
    assert result.code == 0, result.out
    secret = (stack / "compose" / ENV / ".env").read_text().split("RABBITMQ_PASSWORD=")[1].split()[0]
    assert "RABBITMQ_PASSWORD: ********" in result.out
    assert secret not in result.out


def test_aliases_run_their_target(stack: Path) -> None:
    result = run_doit(stack, "s_a_dbs", f"env={ENV}")
    assert result.code == 0, result.out
    assert verbs(calls(stack)) == [["up", "-d", "--wait", "--wait-timeout", "120", "redis", "rabbitmq"]]


# Hooks around the image build: tests/test_listed_images.py, with the real image tasks
# (this file's stub build would replace the very code such a test names).


def test_unknown_environment_is_a_clean_error(stack: Path) -> None:
    result = run_doit(stack, "compose_up", "env=offlin")
    assert result.code != 0
    assert "unknown environment 'offlin'" in result.out and "did you mean 'offline'" in result.out
    assert "Traceback" not in result.out


def test_failing_picks_the_broken_service_not_the_ones_still_starting() -> None:
    rows = [{"Service": "redis", "State": "running", "Health": "starting"},
            {"Service": "rabbitmq", "State": "restarting", "Health": ""}]
    assert cops.failing(rows, ["redis", "rabbitmq"]) == ["rabbitmq"]
    # A timeout: nothing broken, the slow one is named.
    assert cops.failing(rows[:1], ["redis"]) == ["redis"]
    # A container that was never created (e.g. its port was taken) counts as broken.
    assert cops.failing([], ["session-agent"]) == ["session-agent"]


def test_parse_ps_treats_unhealthy_as_not_running() -> None:
    states = cops.parse_ps("redis\trunning\tUp 2 minutes (healthy)\nengine\trunning\tUp 1 minute (unhealthy)\n")
    assert states == {"redis": "running", "engine": "unhealthy"}


def test_compose_ps_json_both_formats() -> None:
    assert cops.parse_compose_ps('[{"Service": "a"}]') == [{"Service": "a"}]
    assert cops.parse_compose_ps('{"Service": "a"}\n{"Service": "b"}\n') == [{"Service": "a"}, {"Service": "b"}]
    assert cops.parse_compose_ps("") == []


def test_a_world_readable_env_file_is_refused_with_the_fix(stack: Path) -> None:
    env_file = stack / "compose" / "offline" / ".env"
    env_file.write_text("RABBITMQ_PASSWORD=mine\n")
    env_file.chmod(0o644)  # e.g. copied from another checkout
    result = run_doit(stack, "compose_up", f"env={ENV}")
    assert result.code == 1, result.out
    assert "readable by others (mode 644)" in result.out and "chmod 600" in result.out, result.out
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o644  # never silently changed or extended
    assert env_file.read_text() == "RABBITMQ_PASSWORD=mine\n"


def test_a_job_refused_by_a_database_says_the_env_file_no_longer_matches(
        stack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # compose/<env>/.env deleted and re-created while the data volumes kept the old password.
    monkeypatch.setenv("FAKE_RUN_FAIL", "ERROR bootstrap: (403) 'ACCESS_REFUSED - Login was refused'")
    result = run_doit(stack, "compose_up", f"env={ENV}")
    assert result.code == 1, result.out
    assert "bootstrap cannot log in with the passwords in compose/offline/.env" in result.out, result.out
    assert "compose_down env=offline wipe=1" in result.out
