"""A tiny image made without a daemon: an OCI image layout (one layer holding one file) that
skopeo copies into a registry (`oci:<folder>:<tag>`). Different `content`, different digest."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

from tasks.programs import tools


def _blob(root: Path, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (root / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def layout(folder: Path, content: str, *, tag: str = "latest") -> Path:
    """An OCI layout in `folder` with one image tagged `tag` whose one file says `content`."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = content.encode()
        info = tarfile.TarInfo("content.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    layer = _blob(folder, buf.getvalue())
    diff_id = layer["digest"]
    config = _blob(
        folder,
        json.dumps(
            {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]}}
        ).encode(),
    )
    manifest = _blob(
        folder,
        json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer}],
            }
        ).encode(),
    )
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                **manifest,
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (folder / "index.json").write_text(json.dumps(index))
    (folder / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    return folder


def upload(folder: Path, remote: str, *, tag: str = "latest") -> None:
    """Copy the layout's image to `remote` (a loopback registry: plain HTTP)."""
    tools.run("skopeo", "copy", "--dest-tls-verify=false", f"oci:{folder}:{tag}", f"docker://{remote}")
