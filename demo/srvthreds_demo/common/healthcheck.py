"""Container HEALTHCHECK: exit 0 if the service's /healthz answers 200.

Standard library only, so images need no curl. HEALTH_PORT empty means the image
runs a one-shot job with no server: nothing to probe, so it reports healthy.
"""
from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    port = os.environ.get("HEALTH_PORT", "").strip()
    if not port:
        return 0
    url = f"http://127.0.0.1:{port}{os.environ.get('HEALTH_PATH', '/healthz')}"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except Exception as exc:  # noqa: BLE001 (503, refused, timeout: all unhealthy)
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
