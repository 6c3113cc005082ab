"""Operations (layer 4): what to do against a live system, and in which order.

Compose stacks, image builds, the deploy engine (one target protocol for Compose,
Minikube and the cloud clusters), cluster health, release records, doctor checks and
image pruning. Modules here call programs only through their adapters and the tools
door, and never know doit (docs/architecture.md).
"""
