"""Stateful fake programs (docker, docker-compose, minikube, kubectl) and scripted one-offs.

Every fake is installed by testing.harness.install and logs every call; see README.md.
"""
