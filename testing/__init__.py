"""Test support for stackbuild: fake programs, project copies, the pytest plugin.

Installed with the project (pyproject [tool.setuptools] packages) so `tests/` and `bench/`
both import it; nothing here is imported by `tasks/`.
"""
