#!/bin/sh
# Make the cluster on first start (empty volume), then run the server.
set -eu

user="${POSTGRES_USER:-guestbook}"
database="${POSTGRES_DB:-$user}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "postgres: set POSTGRES_PASSWORD (needed to create the cluster)" >&2
        exit 1
    fi
    umask 077
    pwfile="$(mktemp)"
    trap 'rm -f "$pwfile"' EXIT
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    # Local (socket) connections are trusted: only this container reaches the socket.
    initdb --pgdata="$PGDATA" --username="$user" --pwfile="$pwfile" --encoding=UTF8 --no-locale \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    # Other containers connect over the network, always with the password.
    printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
    if [ "$database" != postgres ]; then
        # Single-user mode: no server (and no open port) before the database exists.
        echo "CREATE DATABASE \"$database\" OWNER \"$user\";" | postgres --single -j -D "$PGDATA" postgres >/dev/null
    fi
    echo "postgres: created the cluster, user $user and database $database"
fi

if [ "$1" = postgres ]; then
    shift
    # The socket goes to /tmp: the image's own folders are read-only in a cluster.
    exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp "$@"
fi
exec "$@"
