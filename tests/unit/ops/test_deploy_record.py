"""tasks/ops/deploy_record.py: every file of .build/<env>/deploy/ written in its format and read
back, tolerant of missing and broken files, secrets private from their first byte."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tasks.ops.deploy_record import JobDone, Outcome, Pending, Record


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_missing_or_broken_record_reads_as_empty(tmp_path: Path) -> None:
    record = Record(tmp_path / "deploy")
    assert record.pending() == Pending() and not record.is_pending()
    assert record.applied_hash() is None and record.outcome() is None
    assert record.release() is None and record.known_good() is None
    assert record.job_inputs("init") is None and record.job_done("init") == JobDone(None, None)
    record.folder.mkdir()
    for name, text in (("pending.json", "{broken"), ("applied.json", "[1]"), ("outcome.json", "{}")):
        (record.folder / name).write_text(text)
    assert record.pending() == Pending() and record.is_pending()  # there, though unreadable
    assert record.applied_hash() is None and record.outcome() is None


def test_pending_applied_and_outcome_in_their_formats(tmp_path: Path) -> None:
    record = Record(tmp_path)
    pending = Pending("h1", [("Deployment", "web")], ["init"], ["deployment/web"], {"web": "r/web:1"})
    record.set_pending(pending)
    assert json.loads((tmp_path / "pending.json").read_text()) == {
        "changed": ["deployment/web"],
        "hash": "h1",
        "jobs": ["init"],
        "refs": {"web": "r/web:1"},
        "workloads": [["Deployment", "web"]],
    }
    assert record.pending() == pending and record.is_pending()
    record.clear_pending()
    assert not record.is_pending()
    record.clear_pending()  # twice is fine
    record.set_applied("h1")
    assert (tmp_path / "applied.json").read_text() == '{"hash": "h1"}'
    assert record.applied_hash() == "h1"
    record.set_outcome(Outcome(ok=False, restored=True, failed=["deployment/web"]))
    assert (tmp_path / "outcome.json").read_text() == (
        '{"failed": ["deployment/web"], "ok": false, "restored": true}\n'
    )
    assert record.outcome() == Outcome(False, True, ["deployment/web"])


def test_a_job_is_done_with_the_inputs_it_was_planned_with(tmp_path: Path) -> None:
    record = Record(tmp_path)
    record.set_job("init", "kind: Job\n", "i1")
    assert record.job_manifest("init").read_text() == "kind: Job\n"
    assert record.job_inputs("init") == "i1"
    record.set_job_done("init", "uid-1")
    assert json.loads((tmp_path / "jobs" / "init.done").read_text()) == {"inputs": "i1", "ns_uid": "uid-1"}
    assert record.job_done("init") == JobDone("i1", "uid-1")
    record.set_job("init", "kind: Job\n", "i2")  # new inputs: the old completion does not match
    assert record.job_done("init").inputs != record.job_inputs("init")


def test_releases_remember_the_one_replaced_only_when_the_images_change(tmp_path: Path) -> None:
    record = Record(tmp_path)
    record.remember_replaced({"a": "r/a:1"})  # nothing healthy yet
    assert not record.known_good_file.exists()
    record.set_release("e", {"a": "r/a:1"}, None)
    assert record.release_file == tmp_path / "release.json"
    record.remember_replaced({"a": "r/a:1"})
    assert not record.known_good_file.exists()
    record.remember_replaced({"a": "r/a:2"})
    assert record.known_good_file.read_text() == record.release_file.read_text()
    known = record.known_good()
    assert known is not None and known.refs == {"a": "r/a:1"}


def test_secrets_and_the_fingerprint_key_are_private_and_kept(tmp_path: Path) -> None:
    record = Record(tmp_path)
    record.write_secrets("A=1\n")
    assert record.secrets_file.read_text() == "A=1\n" and _mode(record.secrets_file) == 0o600
    key = record.fingerprint_key()
    assert len(key) == 64 and _mode(tmp_path / ".fingerprint-key") == 0o600
    assert record.fingerprint_key() == key
    assert record.write_kustomization("k\n") == tmp_path / "kustomization.yaml"
    assert record.write_manifests("m\n").read_text() == "m\n"
