"""Stateful fake `kubectl`, split by concern; run as `python -m testing.fakes.kubectl`."""
