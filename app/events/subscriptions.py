"""Webhook subscriptions: who receives which events, and their delivery log. Every change
is audited and committed here (the `_and_commit` functions)."""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.auth.caller import Caller
from app.errors import Conflict, InvalidInput, NotFound
from app.events.models import EVENT_TYPES
from app.events.targets import ForbiddenTarget, check_target

_SUBSCRIPTION_JSON = """json_build_object('id', id, 'url', url, 'event_types', event_types,
  'border', border, 'province', province_code, 'category', category, 'active', active,
  'consecutive_failures', consecutive_failures, 'disabled_reason', disabled_reason,
  'created_at', created_at)"""


async def create_and_commit(
    session: AsyncSession,
    *,
    caller: Caller,
    url: str,
    secret: str | None,
    event_types: list[str],
    border: str | None,
    province: str | None,
    category: str | None,
    allow_private: bool,
    max_active: int,
) -> dict[str, Any]:
    """A new subscription, with its secret: shown once, here (the receiver checks
    signatures with it)."""
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise InvalidInput(
            f"unknown event types {unknown}; known: {EVENT_TYPES}", field="event_types"
        )
    try:
        await check_target(url, allow_private=allow_private)
    except ForbiddenTarget as exc:
        raise InvalidInput(str(exc), field="url") from exc
    active = (
        await session.execute(text("SELECT count(*) FROM webhook_subscriptions WHERE active"))
    ).scalar_one()
    if active >= max_active:
        raise Conflict(
            f"{active} subscriptions are active, the most this service keeps "
            "(BORDERMARK_WEBHOOK_MAX_SUBSCRIPTIONS); disable one first"
        )
    secret = secret or secrets.token_urlsafe(32)
    sub_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO webhook_subscriptions (id, url, secret, event_types, border, "
            "province_code, category) "
            "VALUES (:id, :url, :secret, :types, :border, :province, :category)"
        ),
        {
            "id": sub_id,
            "url": url,
            "secret": secret,
            "types": event_types,
            "border": border.upper() if border else None,
            "province": province,
            "category": category,
        },
    )
    record(
        session,
        caller=caller,
        action="webhook.create",
        entity_type="webhook",
        entity_id=str(sub_id),
        detail={"url": url, "event_types": event_types},
    )
    await session.commit()
    found = (
        await session.execute(
            text(f"SELECT {_SUBSCRIPTION_JSON}::text FROM webhook_subscriptions WHERE id = :id"),  # noqa: S608
            {"id": sub_id},
        )
    ).scalar_one()
    return {**json.loads(found), "secret": secret}


async def list_all(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(f"SELECT {_SUBSCRIPTION_JSON}::text FROM webhook_subscriptions ORDER BY created_at")  # noqa: S608
    )
    return [json.loads(r[0]) for r in rows]


async def set_active_and_commit(
    session: AsyncSession, *, caller: Caller, sub_id: uuid.UUID, active: bool
) -> dict[str, Any]:
    found = (
        await session.execute(
            text(
                "UPDATE webhook_subscriptions SET active = :a, consecutive_failures = 0, "  # noqa: S608
                "disabled_reason = CASE WHEN :a THEN NULL ELSE 'disabled by an admin' END "
                f"WHERE id = :id RETURNING {_SUBSCRIPTION_JSON}::text"
            ),
            {"a": active, "id": sub_id},
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no webhook {sub_id}")
    if active:  # what waited while it was disabled goes out now, oldest first
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
        detail={"active": active},
    )
    await session.commit()
    return dict(json.loads(found))


async def delete_and_commit(session: AsyncSession, *, caller: Caller, sub_id: uuid.UUID) -> None:
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


async def deliveries(session: AsyncSession, sub_id: uuid.UUID, limit: int) -> list[Any]:
    """The subscription's deliveries, newest first."""
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
    return [json.loads(r[0]) for r in rows]
