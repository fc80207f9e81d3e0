"""Which Host a request's links and redirects are built on. The Host header is the
client's to write: trusted, `Host: evil.example` made `/ogc/api?f=html` redirect there and
every OGC link point there. With a public base URL set, every request is read as addressed
to it; with an allow-list, another Host is refused; the request's own Host is taken as it
is only in development and tests. A production service with neither serves the local
names alone (localhost, 127.0.0.1, ::1) and says which setting to make."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.responses import Response
from starlette.types import Scope

from app.errors import problem_response

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# Probes build no links: a load balancer's health check by address is answered.
PROBES = ("/healthz", "/readyz", "/metrics")


@dataclass(frozen=True)
class HostPolicy:
    # The public base URL (scheme://host[:port], checked by Settings), split once.
    public_scheme: str | None = None
    public_host: bytes | None = None
    allowed_hosts: frozenset[str] = frozenset()  # host names, lower case; empty: any

    @classmethod
    def of(
        cls, *, public_base_url: str | None, allowed_hosts: list[str], development: bool
    ) -> HostPolicy:
        allowed = frozenset(h.lower() for h in allowed_hosts)
        if public_base_url is None and not allowed and not development:
            allowed = LOCAL_HOSTS
        if public_base_url is None:
            return cls(allowed_hosts=allowed)
        base = urlsplit(public_base_url)
        return cls(base.scheme, base.netloc.encode("latin-1"), allowed)

    def admit(self, scope: Scope) -> Response | None:
        """Rewrite the scope to the public base URL, or refuse a Host not allowed (a 400
        problem to send); None when the request goes on."""
        if self.public_host is not None:
            scope["scheme"] = self.public_scheme
            scope["headers"] = [(k, v) for k, v in scope.get("headers", []) if k != b"host"] + [
                (b"host", self.public_host)
            ]
            return None
        if not self.allowed_hosts or scope["path"] in PROBES:
            return None
        host = host_name(scope)
        if host in self.allowed_hosts:
            return None
        return problem_response(
            400,
            slug="bad-request",
            title="Bad request",
            detail=(
                f"this service does not answer for the host {host!r}; its operator sets "
                "BORDERMARK_PUBLIC_BASE_URL (or BORDERMARK_ALLOWED_HOSTS) to the names it serves"
            ),
        )


def host_name(scope: Scope) -> str:
    """The Host header's name, lower case, without its port ([::1]:8000 -> ::1)."""
    raw = next((v for k, v in scope.get("headers", []) if k == b"host"), b"")
    netloc = raw.decode("latin-1").strip().lower()
    if netloc.startswith("["):
        return netloc[1:].partition("]")[0]
    return netloc.rpartition(":")[0] if netloc.count(":") == 1 else netloc
