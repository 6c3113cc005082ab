# Builder: runs the demo's unit tests against Debian's packaged libraries and lays
# out what the service images copy. Build context: demo/ (environments/stack.yaml, images.builder).
#
#   /out/shared/                   code every service uses (srvthreds_demo/common, ...)
#   /out/services/<service>/       that service's one module, e.g. services/engine/
#
# Service images copy only these directories, never the builder's own layers, so a
# change here that leaves /out unchanged (a test, a comment) leaves them unchanged.
ARG BASE_IMAGE=debian:bookworm-slim
# checkov:skip=CKV_DOCKER_7:doit always passes BASE_IMAGE: images.base_image (a Debian release tag, never latest) or the content tag of the locally debootstrapped base; the default is that release tag too.
FROM ${BASE_IMAGE}

# Versions are those of the Debian release the base image tracks; pinning exact
# Debian revisions would break as soon as a security update supersedes them.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        python3 python3-pytest python3-pika python3-redis python3-pymongo python3-prometheus-client \
    && rm -rf /var/lib/apt/lists/*

# No .pyc files: they would land in /out and embed timestamps.
ENV PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY . .
# The demo's tests run unprivileged (nobody); only laying out /out below needs root,
# so that what service images copy stays root-owned and read-only to their user.
USER 65534:65534
# SERVICE is set when only one service changed (`doit dev`): run that service's tests alone
# (-k matches its module name: its test file and its parametrized cases). No test selected
# (pytest's exit 5) is no failure. What /out holds below never depends on it, so the service
# images built from either builder are the same.
ARG SERVICE=""
RUN if [ -z "$SERVICE" ]; then python3 -m pytest -q -p no:cacheprovider tests; \
    else python3 -m pytest -q -p no:cacheprovider tests \
        -k "$(python3 -c 'import os; print(os.environ["SERVICE"].replace("-", "_"))')" || [ $? -eq 5 ]; fi
USER 0:0

# One directory per service, named as in stack.yaml (session-agent), holding its
# module (session_agent.py). --preserve=mode drops timestamps and ownership, so
# the copied files differ only when their content does.
RUN set -eu; \
    pkg=srvthreds_demo; \
    mkdir -p "/out/shared/$pkg"; \
    cp -r --preserve=mode "$pkg/common" "$pkg/__init__.py" "$pkg/__main__.py" "$pkg/serve.py" "/out/shared/$pkg/"; \
    for pair in engine:engine session-agent:session_agent \
                persistence-agent:persistence_agent bootstrap:bootstrap; do \
        service=${pair%%:*}; module=${pair#*:}; \
        mkdir -p "/out/services/$service/$pkg"; \
        cp --preserve=mode "$pkg/$module.py" "/out/services/$service/$pkg/"; \
    done; \
    find /out -name __pycache__ -prune -exec rm -rf {} +

# Never started as a container: service images only `COPY --from` it. Should someone
# run it anyway, it runs as nobody, and there is no process whose health to check.
USER 65534:65534
HEALTHCHECK NONE
