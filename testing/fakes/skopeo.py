"""A fake `skopeo` standing in for a cloud registry (ECR) the contract tests cannot reach.

Tests of the registry itself use the real `docker-registry` and the real skopeo
(testing/registry.py); this fake serves only the project copies whose environments name an
AWS registry. It keeps a store of manifests by digest (`manifests.json` in its state folder):

- `inspect --raw docker://<repo>:<tag>`: the registry "has" every tag (as the fake docker's
  `manifest inspect` always did: push is a no-op there); its manifest is a small JSON text
  derived from the reference, stored under its digest, and printed;
- `inspect --raw docker://<repo>@<digest>`: the stored manifest, or `manifest unknown`
  (exit 1) for a digest never served; FAKE_SKOPEO_FORGET (comma-separated digests) drops some;
- `copy --all ... docker://A docker://B`: A must be known; B gets the same manifest;
- FAKE_SKOPEO_SLOW: seconds every call waits first (a slow registry, to interrupt).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

from testing import harness

STATE_ENV = "FAKE_SKOPEO_STATE"


def install(bin_dir: Path, state_dir: Path, log: Path | None = None) -> Path:
    state_dir.mkdir(parents=True, exist_ok=True)
    log = log or state_dir / "calls.jsonl"
    harness.install(
        bin_dir,
        "skopeo",
        "testing.fakes.skopeo",
        env={STATE_ENV: str(state_dir), harness.CALLS_ENV: str(log)},
    )
    return log


def _store(state: Path) -> Path:
    return state / "manifests.json"


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def manifest(ref: str) -> str:
    """The manifest this fake serves for a tagged `ref` (`<registry>/<repo>:<tag>`)."""
    return json.dumps({"schemaVersion": 2, "fake": ref.split("/", 1)[1]}, sort_keys=True)


def pinned(ref: str) -> str:
    """`<registry>/<repo>@<digest>`: what a deploy of the tagged `ref` pins, through this fake."""
    return f"{ref.rsplit(':', 1)[0]}@{_digest(manifest(ref))}"


def _lookup(state: Path, ref: str) -> str | None:
    with harness.flock(_store(state).with_suffix(".lock")):
        known: dict[str, str] = json.loads(_store(state).read_text()) if _store(state).exists() else {}
        forgotten = set(os.environ.get("FAKE_SKOPEO_FORGET", "").split(","))
        if "@" in ref:
            digest = ref.rsplit("@", 1)[1]
            return None if digest in forgotten else known.get(digest)
        text = manifest(ref)
        known[_digest(text)] = text
        _store(state).write_text(json.dumps(known))
        return None if _digest(text) in forgotten else text


def run(argv: list[str]) -> tuple[str, int]:
    state = Path(os.environ[STATE_ENV])
    time.sleep(float(os.environ.get("FAKE_SKOPEO_SLOW", "0")))  # a slow registry, for a Ctrl-C
    refs = [a.removeprefix("docker://") for a in argv if a.startswith("docker://")]
    if argv[:1] == ["inspect"] and "--raw" in argv and len(refs) == 1:
        text = _lookup(state, refs[0])
        if text is None:
            sys.stderr.write(f'Error reading manifest: manifest unknown: "{refs[0]}"\n')
            return "", 1
        return text, 0
    if argv[:1] == ["copy"] and "--all" in argv and len(refs) == 2:
        text = _lookup(state, refs[0])
        if text is None:
            sys.stderr.write(f"reading manifest {refs[0]}: manifest unknown\n")
            return "", 1
        return "", 0
    sys.stderr.write(f"fake skopeo: unsupported call {argv}\n")
    return "", 2


def main(argv: list[str]) -> int:
    out, code = run(argv)
    sys.stdout.write(out)
    harness.log_call(harness.log_from_env(), "skopeo", argv, argv[:1] == ["copy"] and code == 0, code)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
