#!/usr/bin/env bash
# Make sure a Docker daemon is reachable, installing and starting one if not.
#
# CI runs on a fresh machine with no daemon; developers usually have one. Safe to
# run repeatedly: every step is skipped when its result is already there.
#
# Env:
#   DOCKERD_LOG        where dockerd writes its log (default /tmp/stackbuild-dockerd.log)
#   DOCKER_WAIT_SECS   how long to wait for the daemon (default 60)
set -euo pipefail

DOCKERD_LOG="${DOCKERD_LOG:-/tmp/stackbuild-dockerd.log}"
DOCKER_WAIT_SECS="${DOCKER_WAIT_SECS:-60}"

log() { printf 'ci-docker: %s\n' "$*" >&2; }

daemon_up() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

if daemon_up && command -v debootstrap >/dev/null 2>&1; then
    log "docker daemon already reachable"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    log "no reachable docker daemon and not root: cannot install or start one"
    exit 1
fi

# debootstrap makes the base image on hosts without registry access; install it
# alongside the daemon so one script prepares the whole offline toolchain.
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if daemon_up; then
    log "docker daemon already reachable"
    exit 0
fi

# Another dockerd may be starting (a previous run of this script): only start one
# if none is running, else just wait for it.
if ! pgrep -x dockerd >/dev/null 2>&1; then
    log "starting dockerd (log: $DOCKERD_LOG)"
    # containerd is started by dockerd itself when it is not already running.
    # The daemon outlives this script: it must not keep the caller's open files, such as a
    # `flock <lockfile> bash .ci/run` lock, which it would then hold for as long as it runs.
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}
            if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
        done
        exec nohup dockerd </dev/null >"$DOCKERD_LOG" 2>&1
    ) &
    disown || true
fi

for _ in $(seq 1 "$DOCKER_WAIT_SECS"); do
    if daemon_up; then
        log "docker daemon ready: $(docker info --format '{{.ServerVersion}} storage={{.Driver}}')"
        exit 0
    fi
    sleep 1
done

log "docker daemon did not become reachable within ${DOCKER_WAIT_SECS}s; last lines of $DOCKERD_LOG:"
tail -n 30 "$DOCKERD_LOG" >&2 || true
exit 1
