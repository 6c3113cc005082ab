"""Who may talk to the page: its own Host, its own Origin, and the session's token.

A page that can rebuild things is an attack surface. A foreign `Host` is refused (DNS
rebinding: a site whose name resolves to 127.0.0.1 would otherwise be "same origin"); a
foreign `Origin` is refused (a cross-site POST or event stream); every POST carries the
session's token, which only a page served by this server knows. Bound to anything but
loopback, every request needs the token (which the person then types into the address).
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
TOKEN_HEADER = "x-stackbuild-token"
STATIC = "/static/"  # where app.py serves the page's assets


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Guard:
    host: str
    port: int
    token: str

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def wildcard(self) -> bool:
        return self.host in ("0.0.0.0", "::", "[::]")

    def hosts(self) -> set[str]:
        # Bound to one loopback address (127.0.0.2, say), that address is the page's own too.
        names = {*LOOPBACK_NAMES, self.host} if self.loopback else {self.host}
        return {f"{name}:{self.port}" for name in names}

    def host_ok(self, host: str) -> bool:
        # Bound to every address the Host cannot be known: every request then needs the token.
        return self.wildcard or host.lower() in self.hosts()

    def origin_ok(self, origin: str | None) -> bool:
        """No Origin (a same-origin GET, a command-line client) or one of the page's own."""
        if origin is None:
            return True
        scheme, _, rest = origin.lower().partition("://")
        return scheme == "http" and self.host_ok(rest)

    def token_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def refusal(
        self, method: str, headers: dict[str, str], query_token: str | None, path: str = "/"
    ) -> str | None:
        """Why a request is refused (None: it may pass)."""
        if not self.host_ok(headers.get("host", "")):
            return "foreign Host"
        if not self.origin_ok(headers.get("origin")):
            return "foreign Origin"
        given = headers.get(TOKEN_HEADER) or query_token
        if method == "POST" and not self.token_ok(headers.get(TOKEN_HEADER)):
            return "missing or wrong token"
        # The page's stylesheet and script are the package's files, the same for everyone: the
        # page that loads them (by plain links) and everything with data still needs the token.
        public = method == "GET" and path.startswith(STATIC)
        if not self.loopback and not public and not self.token_ok(given):
            return "missing or wrong token"
        return None
