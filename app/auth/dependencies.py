from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)

from app.auth.caller import Caller
from app.auth.tokens import resolve_token
from app.db import SessionDep
from app.errors import TooManyRequests, Unauthenticated
from app.operations.rate_limit import TokenBuckets, retry_after

# auto_error=False: we raise our own 401 problem instead of FastAPI's plain 403.
_bearer = HTTPBearer(auto_error=False, description="A bordermark token (`bordermark token create`)")


class _BasicToken(HTTPBasic):
    """HTTP Basic with the token as the password (any user name), for clients that have no
    way to send a Bearer header: QGIS 3.22's stock "Basic" authentication configuration,
    GDAL's GDAL_HTTP_USERPWD, a browser's sign-in prompt. A token alone in the user name
    (as `curl -u TOKEN:`) is taken too. Malformed credentials count as none."""

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:  # type: ignore[override]
        try:
            return await super().__call__(request)
        except HTTPException:
            return None


_basic = _BasicToken(
    auto_error=False,
    realm="bordermark",
    description="Any user name, a bordermark token as the password (QGIS, GDAL, browsers)",
)


def presented_token(
    bearer: HTTPAuthorizationCredentials | None, basic: HTTPBasicCredentials | None
) -> str | None:
    """The token a request presents, in either scheme."""
    if bearer is not None and bearer.scheme.lower() == "bearer":
        return bearer.credentials
    if basic is not None:
        return basic.password or basic.username or None
    return None


async def get_caller(
    request: Request,
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
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
    token = presented_token(bearer, basic)
    if token is None:
        _fail(request, failures, address, wait)
        raise Unauthenticated(
            "this endpoint needs a token: `Authorization: Bearer TOKEN`, or HTTP Basic "
            "with the token as the password"
        )
    caller = await resolve_token(
        session, token, remote_addr=remote, cache=request.app.state.token_cache
    )
    if caller is None:
        _fail(request, failures, address, wait)
        raise Unauthenticated("the token is unknown, revoked or expired")
    limits: TokenBuckets = request.app.state.token_limits
    max_delay = request.app.state.settings.rate_limit_max_delay_s
    delay = limits.reserve(str(caller.token_id), max_delay)
    if delay is None:
        _refused(request, "token-rate")
        raise TooManyRequests(
            "this token has too many requests waiting; slow down",
            retry_after=retry_after(max_delay),
        )
    if delay:
        # Over the rate but not far: served late rather than refused. Stock clients page
        # one request after another and give up on a 429 (GDAL 3.6 copying /ogc did).
        _refused(request, "token-rate-delayed")
        await asyncio.sleep(delay)
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
