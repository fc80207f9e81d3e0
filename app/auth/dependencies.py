from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.caller import Caller
from app.auth.tokens import resolve_token
from app.db import SessionDep
from app.errors import Unauthenticated

# auto_error=False: we raise our own 401 problem instead of FastAPI's plain 403.
_bearer = HTTPBearer(auto_error=False, description="A bordermark token (`bordermark token create`)")


async def get_caller(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("this endpoint needs an Authorization: Bearer token")
    remote = request.client.host if request.client else None
    caller = await resolve_token(session, credentials.credentials, remote_addr=remote)
    if caller is None:
        raise Unauthenticated("the token is unknown, revoked or expired")
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]
