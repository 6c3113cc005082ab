"""The deploy record of one environment: every file in .build/<env>/deploy/, named here only.

  kustomization.yaml   the committed overlay plus `images:` pinned to content tags
  manifests.yaml       what the last apply sent (Jobs apart)
  pending.json         applied, not yet seen healthy: what the wait step must see ready
  applied.json         the hash last seen healthy
  outcome.json         the last run's result: did it restore the previous release itself?
  release.json         the release last seen healthy (tasks/ops/release.py)
  known-good.json      the healthy release the last deploy replaced (`rollback:<env>`)
  secrets.env          generated secret values (0600), when compose/<env>/.env has none
  .fingerprint-key     the local key of the secrets' fingerprint (0600)
  jobs/<name>.yaml     a Job's manifest; .json its inputs; .done the inputs it completed with

`Record` is the one reader (`_read`) and the one writer (`_write`: atomic, untouched when
equal, so md5 file_deps downstream never move) of these files.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasks.ops import release
from tasks.ops.release import Release
from tasks.store import atomic, state


@dataclass(frozen=True)
class Pending:
    """An apply not yet seen healthy: what the wait step has to see ready."""

    hash: str | None = None
    workloads: list[tuple[str, str]] = field(default_factory=list)  # (kind, name)
    jobs: list[str] = field(default_factory=list)  # the jobs the apply started
    changed: list[str] = field(default_factory=list)  # "deployment/engine": what the apply changed
    refs: dict[str, str] = field(default_factory=dict)  # name -> repo:tag it pinned


@dataclass(frozen=True)
class Outcome:
    """The result of the last deploy (or rollback) run."""

    ok: bool
    restored: bool  # it failed, and undid its own failure completely
    failed: list[str]


@dataclass(frozen=True)
class JobDone:
    inputs: str | None
    ns_uid: str | None


@dataclass(frozen=True)  # gremlin: pardon[equivalent] nothing assigns to a Record or hashes one
class Record:
    """.build/<env>/deploy/ of one environment."""

    folder: Path

    @classmethod
    def of(cls, env: str) -> Record:
        return cls(state.deploy_dir(env))

    # ---------------------------------------------------------------- the one reader/writer

    def _read(self, name: str) -> dict[str, Any]:
        try:
            data = json.loads((self.folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, name: str, text: str, *, secret: bool = False) -> Path:
        """Atomic, and untouched when equal; a secret file is 0600 from its first byte."""
        path = self.folder / name
        atomic.write_text(path, text, secret=secret)
        return path

    # ---------------------------------------------------------------- what the apply sends

    @property
    def secrets_file(self) -> Path:
        return self.folder / "secrets.env"

    def write_secrets(self, text: str) -> None:
        self._write("secrets.env", text, secret=True)

    def fingerprint_key(self) -> bytes:
        """The local key of the secrets' fingerprint, made on first use."""
        path = self.folder / ".fingerprint-key"
        if not path.exists():
            self._write(path.name, secrets.token_hex(32), secret=True)
        return path.read_bytes()

    def write_kustomization(self, text: str) -> Path:
        return self._write("kustomization.yaml", text)

    def write_manifests(self, text: str) -> Path:
        return self._write("manifests.yaml", text)

    # ---------------------------------------------------------------- pending / applied

    def is_pending(self) -> bool:
        return (self.folder / "pending.json").exists()

    def pending(self) -> Pending:
        """What the last apply left to wait for (empty when nothing is pending)."""
        doc = self._read("pending.json")
        return Pending(
            hash=str(doc["hash"]) if doc.get("hash") else None,
            workloads=[(str(k), str(n)) for k, n in doc.get("workloads", [])],
            jobs=[str(j) for j in doc.get("jobs", [])],
            changed=[str(c) for c in doc.get("changed", [])],
            refs={str(k): str(v) for k, v in (doc.get("refs") or {}).items()},
        )

    def set_pending(self, p: Pending) -> None:
        doc = {
            "hash": p.hash,
            "workloads": [list(w) for w in p.workloads],
            "jobs": p.jobs,
            "changed": p.changed,
            "refs": p.refs,
        }
        self._write("pending.json", json.dumps(doc, sort_keys=True))

    def clear_pending(self) -> None:
        (self.folder / "pending.json").unlink(missing_ok=True)

    def applied_hash(self) -> str | None:
        value = self._read("applied.json").get("hash")
        return str(value) if value else None

    def set_applied(self, digest: str) -> None:
        self._write("applied.json", json.dumps({"hash": digest}))

    # ---------------------------------------------------------------- jobs

    def job_manifest(self, name: str) -> Path:
        return self.folder / "jobs" / f"{name}.yaml"

    def set_job(self, name: str, manifest: str, inputs: str) -> None:
        """A job's manifest and the hash of what it depends on, as the plan made them."""
        self._write(f"jobs/{name}.yaml", manifest)
        self._write(f"jobs/{name}.json", json.dumps({"inputs": inputs}))

    def job_inputs(self, name: str) -> str | None:
        value = self._read(f"jobs/{name}.json").get("inputs")
        return str(value) if value else None

    def job_done(self, name: str) -> JobDone:
        doc = self._read(f"jobs/{name}.done")
        inputs, uid = doc.get("inputs"), doc.get("ns_uid")
        return JobDone(str(inputs) if inputs else None, str(uid) if uid else None)

    def set_job_done(self, name: str, ns_uid: str | None) -> None:
        """The job completed with its current inputs, in the namespace with this UID."""
        doc = {"inputs": self._read(f"jobs/{name}.json").get("inputs"), "ns_uid": ns_uid}
        self._write(f"jobs/{name}.done", json.dumps(doc))

    # ---------------------------------------------------------------- outcome

    def outcome(self) -> Outcome | None:
        doc = self._read("outcome.json")
        if not doc:
            return None
        return Outcome(
            bool(doc.get("ok")), bool(doc.get("restored")), [str(f) for f in doc.get("failed", [])]
        )

    def set_outcome(self, o: Outcome) -> None:
        doc = {"ok": o.ok, "restored": o.restored, "failed": o.failed}
        self._write("outcome.json", json.dumps(doc, sort_keys=True) + "\n")

    # ---------------------------------------------------------------- releases

    @property
    def release_file(self) -> Path:
        return self.folder / "release.json"

    @property
    def known_good_file(self) -> Path:
        return self.folder / "known-good.json"

    def _release(self, path: Path) -> Release | None:
        try:
            return release.parse(path.read_text(encoding="utf-8"))
        except OSError:
            return None

    def release(self) -> Release | None:
        """The release last seen healthy."""
        return self._release(self.release_file)

    def known_good(self) -> Release | None:
        """The healthy release the last deploy replaced."""
        return self._release(self.known_good_file)

    def set_release(self, env: str, refs: Mapping[str, str], registry: str | None) -> None:
        self._write(self.release_file.name, release.text(env, refs, registry))

    def remember_replaced(self, new_refs: Mapping[str, str]) -> None:
        """Before a deploy changes images: the healthy release it replaces becomes known-good."""
        live = self.release()
        if live is not None and live.refs != dict(new_refs):
            self._write(self.known_good_file.name, live.text)
