from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, HttpUrl
from sqlalchemy import text

from app.audit.service import record
from app.auth.caller import Caller
from app.auth.dependencies import CallerDep
from app.auth.models import Role
from app.auth.scopes import require_role
from app.db import SessionDep
from app.errors import Conflict, InvalidInput, NotFound
from app.events.models import EVENT_TYPES
from app.events.targets import ForbiddenTarget, check_target
from app.params import app_settings

router = APIRouter(prefix="/api/v1", tags=["events and webhooks"])


def _admin(caller: CallerDep) -> Caller:
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


_SUBSCRIPTION_JSON = """json_build_object('id', id, 'url', url, 'event_types', event_types,
  'border', border, 'province', province_code, 'category', category, 'active', active,
  'consecutive_failures', consecutive_failures, 'disabled_reason', disabled_reason,
  'created_at', created_at)"""


@router.post("/webhooks", status_code=201, summary="Subscribe a URL to events (admin)")
async def create_subscription(
    request: Request, caller: AdminDep, body: SubscriptionCreate, session: SessionDep
) -> JSONResponse:
    unknown = sorted(set(body.event_types) - set(EVENT_TYPES))
    if unknown:
        raise InvalidInput(
            f"unknown event types {unknown}; known: {EVENT_TYPES}", field="event_types"
        )
    settings = app_settings(request)
    try:
        await check_target(str(body.url), allow_private=settings.allows_private_webhook_targets)
    except ForbiddenTarget as exc:
        raise InvalidInput(str(exc), field="url") from exc
    active = (
        await session.execute(text("SELECT count(*) FROM webhook_subscriptions WHERE active"))
    ).scalar_one()
    if active >= settings.webhook_max_subscriptions:
        raise Conflict(
            f"{active} subscriptions are active, the most this service keeps "
            "(BORDERMARK_WEBHOOK_MAX_SUBSCRIPTIONS); disable one first"
        )
    secret = body.secret or secrets.token_urlsafe(32)
    sub_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO webhook_subscriptions (id, url, secret, event_types, border, "
            "province_code, category) "
            "VALUES (:id, :url, :secret, :types, :border, :province, :category)"
        ),
        {
            "id": sub_id,
            "url": str(body.url),
            "secret": secret,
            "types": body.event_types,
            "border": body.border.upper() if body.border else None,
            "province": body.province,
            "category": body.category,
        },
    )
    record(
        session,
        caller=caller,
        action="webhook.create",
        entity_type="webhook",
        entity_id=str(sub_id),
        detail={"url": str(body.url), "event_types": body.event_types},
    )
    await session.commit()
    found = (
        await session.execute(
            text(f"SELECT {_SUBSCRIPTION_JSON}::text FROM webhook_subscriptions WHERE id = :id"),
            {"id": sub_id},
        )
    ).scalar_one()
    # The secret is shown once, here; the receiver needs it to check signatures.
    return JSONResponse({**json.loads(found), "secret": secret}, status_code=201)


@router.get("/webhooks", summary="Subscriptions (admin)")
async def list_subscriptions(session: SessionDep, caller: AdminDep) -> JSONResponse:
    rows = await session.execute(
        text(f"SELECT {_SUBSCRIPTION_JSON}::text FROM webhook_subscriptions ORDER BY created_at")
    )
    return JSONResponse({"webhooks": [json.loads(r[0]) for r in rows]})


@router.patch("/webhooks/{sub_id}", summary="Enable or disable a subscription (admin)")
async def patch_subscription(
    sub_id: Annotated[uuid.UUID, Path()],
    caller: AdminDep,
    body: SubscriptionPatch,
    session: SessionDep,
) -> JSONResponse:
    found = (
        await session.execute(
            text(
                "UPDATE webhook_subscriptions SET active = :a, consecutive_failures = 0, "
                "disabled_reason = CASE WHEN :a THEN NULL ELSE 'disabled by an admin' END "
                f"WHERE id = :id RETURNING {_SUBSCRIPTION_JSON}::text"
            ),
            {"a": body.active, "id": sub_id},
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no webhook {sub_id}")
    if body.active:  # what waited while it was disabled goes out now, oldest first
        await session.execute(
            text(
                "UPDATE webhook_deliveries SET next_attempt_at = now() "
                "WHERE subscription_id = :id AND state = 'pending' AND next_attempt_at > now()"
            ),
            {"id": sub_id},
        )
    else:
        # An admin turning it off means: send nothing more. (A subscription the service
        # disabled after dead deliveries keeps what is queued, sent once it is enabled.)
        await session.execute(
            text(
                "UPDATE webhook_deliveries SET state = 'dead', "
                "last_error = 'not sent: the subscription was disabled by an admin' "
                "WHERE subscription_id = :id AND state = 'pending'"
            ),
            {"id": sub_id},
        )
    record(
        session,
        caller=caller,
        action="webhook.update",
        entity_type="webhook",
        entity_id=str(sub_id),
        detail={"active": body.active},
    )
    await session.commit()
    return JSONResponse(json.loads(found))


@router.delete(
    "/webhooks/{sub_id}",
    status_code=204,
    summary="Delete a subscription and its queued and past deliveries (admin)",
)
async def delete_subscription(
    sub_id: Annotated[uuid.UUID, Path()], caller: AdminDep, session: SessionDep
) -> Response:
    url = (
        await session.execute(
            text("DELETE FROM webhook_subscriptions WHERE id = :id RETURNING url"),
            {"id": sub_id},
        )
    ).scalar_one_or_none()
    if url is None:
        raise NotFound(f"no webhook {sub_id}")
    record(
        session,
        caller=caller,
        action="webhook.delete",
        entity_type="webhook",
        entity_id=str(sub_id),
        detail={"url": url},
    )
    await session.commit()
    return Response(status_code=204)


@router.get("/webhooks/{sub_id}/deliveries", summary="The delivery log of a subscription (admin)")
async def deliveries(
    sub_id: Annotated[uuid.UUID, Path()],
    session: SessionDep,
    caller: AdminDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    rows = await session.execute(
        text(
            "SELECT json_build_object('id', d.id, 'event_id', d.event_id, 'type', e.type, "
            "'state', d.state, 'attempts', d.attempts, 'next_attempt_at', d.next_attempt_at, "
            "'last_status_code', d.last_status_code, 'last_error', d.last_error, "
            "'delivered_at', d.delivered_at)::text FROM webhook_deliveries d "
            "JOIN events e ON e.id = d.event_id WHERE d.subscription_id = :id "
            "ORDER BY d.id DESC LIMIT :n"
        ),
        {"id": sub_id, "n": limit},
    )
    return JSONResponse({"deliveries": [json.loads(r[0]) for r in rows]})


def _visible(caller: Caller, params: dict[str, Any]) -> str:
    if caller.role in (Role.admin, Role.analyst):
        return "TRUE"
    params["scope_province"] = caller.province_code
    return "province_code = :scope_province"


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
    params: dict[str, Any] = {}
    where = _visible(caller, params)
    if type:
        where += " AND type = ANY(:types)"
        params["types"] = type
    sessionmaker = request.app.state.sessionmaker
    # With no place to resume from, `limit=N` reads the N latest events the caller may see
    # and closes (what a script asking for "3 events" means); without `limit` a new
    # subscriber starts from now and follows.
    catch_up_only = start is None and limit is not None
    if start is None:
        latest = (
            f"SELECT coalesce((SELECT min(id) - 1 FROM (SELECT id FROM events WHERE {where} "
            "ORDER BY id DESC LIMIT :latest) l), (SELECT max(id) FROM events), 0)"
            if limit is not None
            else "SELECT coalesce(max(id), 0) FROM events"
        )
        async with sessionmaker() as session:
            start = int(
                (await session.execute(text(latest), {**params, "latest": limit})).scalar_one()
            )

    async def stream() -> AsyncIterator[bytes]:
        cursor, sent, idle, quiet = start, 0, 0.0, 0.0
        yield b"retry: 3000\n\n"
        while limit is None or sent < limit:
            async with sessionmaker() as session:
                rows = (
                    await session.execute(
                        text(
                            "SELECT id, type, json_build_object('id', id, 'type', type, "
                            "'occurred_at', occurred_at, 'data', payload)::text FROM events "
                            f"WHERE id > :after AND {where} ORDER BY id LIMIT 100"
                        ),
                        {**params, "after": cursor},
                    )
                ).all()
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
