"""Entry point of the fake kubectl wrapper."""

import sys

from testing.fakes.kubectl.main import main

sys.exit(main())
