from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.caller import Caller
from app.auth.tokens import resolve_token
from app.db import SessionDep
from app.errors import TooManyRequests, Unauthenticated
from app.operations.rate_limit import TokenBuckets, retry_after

# auto_error=False: we raise our own 401 problem instead of FastAPI's plain 403.
_bearer = HTTPBearer(auto_error=False, description="A bordermark token (`bordermark token create`)")


async def get_caller(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    # The client's address: the peer's, or for a trusted proxy the one it forwards for
    # (uvicorn's ProxyHeadersMiddleware, BORDERMARK_TRUSTED_PROXIES, rewrote it).
    remote = request.client.host if request.client else None
    failures: TokenBuckets = request.app.state.auth_failure_limits
    address = remote or "unknown"
    # An address that keeps failing is slowed: its requests without a valid token are
    # refused (429) before anything else. A valid token still gets through: behind a NAT
    # or proxy, one client firing requests without its token (a QGIS layer, say) must not
    # lock out every user there. Tokens are 256 random bits: the limit is for misbehaving
    # clients, not a guard against guessing.
    wait = failures.blocked_for(address)
    if credentials is None or credentials.scheme.lower() != "bearer":
        _fail(request, failures, address, wait)
        raise Unauthenticated("this endpoint needs an Authorization: Bearer token")
    caller = await resolve_token(
        session, credentials.credentials, remote_addr=remote, cache=request.app.state.token_cache
    )
    if caller is None:
        _fail(request, failures, address, wait)
        raise Unauthenticated("the token is unknown, revoked or expired")
    limits: TokenBuckets = request.app.state.token_limits
    wait = limits.take(str(caller.token_id))
    if wait:
        _refused(request, "token-rate")
        raise TooManyRequests(
            "this token is over its request rate; slow down", retry_after=retry_after(wait)
        )
    return caller


def _fail(request: Request, failures: TokenBuckets, address: str, wait: float) -> None:
    """A failed authentication: counted, and a 429 while the address is over its limit."""
    if wait:
        _refused(request, "auth-failures")
        raise TooManyRequests(
            "too many failed authentications from this address", retry_after=retry_after(wait)
        )
    failures.take(address)


def _refused(request: Request, reason: str) -> None:
    request.app.state.metrics.rate_limited.labels(reason).inc()


CallerDep = Annotated[Caller, Depends(get_caller)]
