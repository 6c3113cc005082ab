"""`python3 -m srvthreds_demo`: run the service this image was built for.

Each service image carries one service module; SRVTHREDS_SERVICE (set by the
image) names it, so a single shared default CMD fits every service image.
"""

from __future__ import annotations

import importlib
import os
import sys


def main() -> int:
    service = os.environ.get("SRVTHREDS_SERVICE", "")
    if not service:
        print("SRVTHREDS_SERVICE is not set (e.g. engine, session-agent)", file=sys.stderr)
        return 2
    module = importlib.import_module(f"{__package__}.{service.replace('-', '_')}")
    result = module.main()
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
