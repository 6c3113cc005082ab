#!/bin/sh
# Write RabbitMQ's config from the environment, then run the server.
# default_user/default_pass take effect when the node starts with an empty
# database, i.e. on first start; later starts keep the user already created.
set -eu

if [ -z "${RABBITMQ_PASSWORD:-}" ]; then
    echo "rabbitmq: RABBITMQ_PASSWORD must be set" >&2
    exit 1
fi
user="${RABBITMQ_USER:-srvthreds}"

# Config lives in the data directory: the image's /etc is not writable by this user.
umask 077
cat > "${RABBITMQ_CONFIG_FILE}.conf" <<CONF
listeners.tcp.default = 5672
loopback_users = none
default_user = ${user}
default_pass = ${RABBITMQ_PASSWORD}
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
CONF

exec "$@"
