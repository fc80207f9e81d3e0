from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, HttpUrl

from app.auth.caller import Caller
from app.auth.dependencies import CallerDep
from app.auth.models import Role
from app.auth.scopes import require_role
from app.db import SessionDep
from app.errors import InvalidInput
from app.events import subscriptions
from app.events.feed import Feed
from app.events.schemas import Deliveries, NewSubscription, Subscription, Subscriptions
from app.params import SettingsDep

router = APIRouter(prefix="/api/v1", tags=["events and webhooks"])


async def _admin(caller: CallerDep) -> Caller:
    """The caller, who must be an admin. As a dependency it runs before the body is read:
    anyone else is told 403 first, not what is wrong with a body they may not send."""
    require_role(caller, Role.admin)
    return caller


AdminDep = Annotated[Caller, Depends(_admin)]
POLL_S = 1.0
KEEPALIVE_S = 15.0


class SubscriptionCreate(BaseModel):
    url: HttpUrl
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="Shared HMAC secret; generated when absent.",
    )
    event_types: list[str] = Field(min_length=1, examples=[["incident.created"]])
    border: str | None = Field(default=None, max_length=5)
    province: str | None = Field(default=None, max_length=40)
    category: str | None = Field(default=None, max_length=40)


class SubscriptionPatch(BaseModel):
    active: bool


@router.post(
    "/webhooks",
    status_code=201,
    summary="Subscribe a URL to events (admin)",
    response_model=NewSubscription,
)
async def create_subscription(
    caller: AdminDep, body: SubscriptionCreate, session: SessionDep, settings: SettingsDep
) -> JSONResponse:
    created = await subscriptions.create_and_commit(
        session,
        caller=caller,
        url=str(body.url),
        secret=body.secret,
        event_types=body.event_types,
        border=body.border,
        province=body.province,
        category=body.category,
        allow_private=settings.allows_private_webhook_targets,
        max_active=settings.webhook_max_subscriptions,
    )
    return JSONResponse(created, status_code=201)


@router.get("/webhooks", summary="Subscriptions (admin)", response_model=Subscriptions)
async def list_subscriptions(session: SessionDep, caller: AdminDep) -> JSONResponse:
    return JSONResponse({"webhooks": await subscriptions.list_all(session)})


@router.patch(
    "/webhooks/{sub_id}",
    summary="Enable or disable a subscription (admin)",
    response_model=Subscription,
)
async def patch_subscription(
    sub_id: Annotated[uuid.UUID, Path()],
    caller: AdminDep,
    body: SubscriptionPatch,
    session: SessionDep,
) -> JSONResponse:
    changed = await subscriptions.set_active_and_commit(
        session, caller=caller, sub_id=sub_id, active=body.active
    )
    return JSONResponse(changed)


@router.delete(
    "/webhooks/{sub_id}",
    status_code=204,
    summary="Delete a subscription and its queued and past deliveries (admin)",
)
async def delete_subscription(
    sub_id: Annotated[uuid.UUID, Path()], caller: AdminDep, session: SessionDep
) -> Response:
    await subscriptions.delete_and_commit(session, caller=caller, sub_id=sub_id)
    return Response(status_code=204)


@router.get(
    "/webhooks/{sub_id}/deliveries",
    summary="The delivery log of a subscription (admin)",
    response_model=Deliveries,
)
async def deliveries(
    sub_id: Annotated[uuid.UUID, Path()],
    session: SessionDep,
    caller: AdminDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    return JSONResponse({"deliveries": await subscriptions.deliveries(session, sub_id, limit)})


@router.get(
    "/events",
    summary="Server-sent events; resume with Last-Event-ID",
    description=(
        "A stream of events (`text/event-stream`). Without `after` or `Last-Event-ID` it "
        "follows from now; `limit=N` alone gives the N latest events and closes. "
        "`after=ID` (or the `Last-Event-ID` header, which EventSource sends on reconnect) "
        "resumes after that event; with `limit` it closes after that many, with "
        "`idle_timeout` after that many quiet seconds."
    ),
)
async def event_stream(
    request: Request,
    caller: CallerDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    after: Annotated[int | None, Query(ge=0, description="Resume after this event id")] = None,
    type: Annotated[list[str] | None, Query(description="Only these event types")] = None,
    limit: Annotated[
        int | None,
        Query(ge=1, le=10_000, description="At most this many; alone: the latest this many"),
    ] = None,
    idle_timeout: Annotated[
        float | None, Query(gt=0, le=3600, description="Close after this many quiet seconds")
    ] = None,
) -> StreamingResponse:
    start = after
    if last_event_id is not None:
        if not last_event_id.isdigit():
            raise InvalidInput(
                "Last-Event-ID must be an event id (the `id:` of the last event received)",
                field="Last-Event-ID",
            )
        start = int(last_event_id)
    feed = Feed.of(caller, type)
    sessionmaker = request.app.state.sessionmaker
    # With no place to resume from, `limit=N` reads the N latest events the caller may see
    # and closes (what a script asking for "3 events" means); without `limit` a new
    # subscriber starts from now and follows.
    catch_up_only = start is None and limit is not None
    if start is None:
        async with sessionmaker() as session:
            start = await feed.start(session, limit)

    async def stream() -> AsyncIterator[bytes]:
        cursor, sent, idle, quiet = start, 0, 0.0, 0.0
        yield b"retry: 3000\n\n"
        while limit is None or sent < limit:
            async with sessionmaker() as session:
                rows = await feed.after(session, cursor)
            for event_id, event_type, data in rows:
                yield f"id: {event_id}\nevent: {event_type}\ndata: {data}\n\n".encode()
                cursor, sent = event_id, sent + 1
                if limit is not None and sent >= limit:
                    return
            if rows:
                idle = quiet = 0.0
                continue
            if catch_up_only or await request.is_disconnected():
                return
            if idle_timeout is not None and quiet >= idle_timeout:
                return
            await asyncio.sleep(POLL_S)
            idle += POLL_S
            quiet += POLL_S
            if idle >= KEEPALIVE_S:
                idle = 0.0
                yield b": keep-alive\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
