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

# The other platform of images.platforms (linux/arm64 on an amd64 machine) builds under qemu's
# user-mode emulation, which the kernel starts through binfmt_misc: Debian's qemu-user-static
# and binfmt-support, the kernel's binfmt_misc mounted (a container may not have it), the entry
# enabled (no systemd here to do it). Checked by tests/integration/test_multi_platform.py.
foreign_entry() { if [ "$(uname -m)" = aarch64 ]; then echo qemu-x86_64; else echo qemu-aarch64; fi; }
emulation_ready() { grep -qs '^enabled' "/proc/sys/fs/binfmt_misc/$(foreign_entry)"; }
emulation() {
    emulation_ready && return 0
    if [ "$(id -u)" -ne 0 ]; then
        log "no qemu emulation of $(foreign_entry) and not root: the multi-platform test will fail"
        return 0
    fi
    if ! command -v update-binfmts >/dev/null 2>&1 || ! ls /usr/bin/qemu-*-static >/dev/null 2>&1; then
        log "installing qemu-user-static binfmt-support"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static binfmt-support >/dev/null
    fi
    [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    update-binfmts --enable "$(foreign_entry)" 2>/dev/null || true
    if emulation_ready; then log "qemu emulation of $(foreign_entry) enabled"; else log "could not enable $(foreign_entry)"; fi
}
emulation

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
