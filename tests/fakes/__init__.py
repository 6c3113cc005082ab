"""Old import paths of the fakes (shims): they live in the `testing` package now (testing/fakes/README.md)."""
