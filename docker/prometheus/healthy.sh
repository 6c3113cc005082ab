#!/bin/bash
# Exit 0 when Prometheus answers its health endpoint with 200: the image's health check and
# Compose's. The image has no curl or wget; bash's /dev/tcp is enough for one HTTP/1.0 request.
set -eu
exec 3<>"/dev/tcp/127.0.0.1/${1:-9090}"
printf 'GET /-/healthy HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
read -r -t 5 _version status _rest <&3
[ "$status" = 200 ]
