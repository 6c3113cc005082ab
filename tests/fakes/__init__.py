"""Stateful fake `minikube` / `kubectl` executables for testing stackbuild without a cluster.

See README.md in this folder for the behaviour contract and design decisions.
"""
