#!/bin/sh
# Write RabbitMQ's config from the environment, then run the server.
# default_user/default_pass take effect when the node starts with an empty
# database, i.e. on first start; later starts keep the user already created.
set -eu

# Accept the official image's variable names too, so one configuration serves both
# this offline image and rabbitmq:3-management from a registry.
password="${RABBITMQ_DEFAULT_PASS:-${RABBITMQ_PASSWORD:-}}"
if [ -z "$password" ]; then
    echo "rabbitmq: set RABBITMQ_DEFAULT_PASS (or RABBITMQ_PASSWORD)" >&2
    exit 1
fi
user="${RABBITMQ_DEFAULT_USER:-${RABBITMQ_USER:-}}"
if [ -z "$user" ]; then
    echo "rabbitmq: set RABBITMQ_DEFAULT_USER (or RABBITMQ_USER)" >&2
    exit 1
fi

# Config lives in the data directory: the image's /etc is not writable by this user.
umask 077
cat > "${RABBITMQ_CONFIG_FILE}.conf" <<CONF
listeners.tcp.default = 5672
loopback_users = none
default_user = ${user}
default_pass = ${password}
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
CONF

exec "$@"
