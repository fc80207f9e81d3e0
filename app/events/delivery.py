"""Webhook delivery: a worker claims due deliveries (FOR UPDATE SKIP LOCKED, so several
workers never send one twice), posts each signed event, and on failure backs off
exponentially; a delivery is dead after MAX_ATTEMPTS, and a subscription is disabled once
DISABLE_AFTER of its deliveries in a row have died (about 43 minutes of retries each, so a
receiver down for a burst is not dropped: 20 failures in one round had disabled one within
5 s). While disabled, events still get their deliveries, held until it is enabled again.
The queue is the database: a restart loses nothing.

Signature: `X-Bordermark-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<body>")>`; a receiver recomputes it and refuses stale timestamps (replay)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.events.targets import ForbiddenTarget, check_target
from app.operations.background import background

logger = logging.getLogger("bordermark.webhooks")

MAX_ATTEMPTS = 10
DISABLE_AFTER = 3  # deliveries dead in a row (each failed MAX_ATTEMPTS times)
BACKOFF_BASE_S = 5.0
BACKOFF_CAP_S = 3600.0
TIMEOUT_S = 10.0


def sign(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={sign(secret, ts, body)}"


def verify(secret: str, header: str, body: bytes, *, tolerance_s: int = 300) -> bool:
    """What a receiver does (and the tests): constant-time compare, fresh timestamp."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        ts = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(time.time() - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), parts.get("v1", ""))


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_BASE_S * 2 ** (attempts - 1), BACKOFF_CAP_S))


async def deliver_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    *,
    batch: int = 20,
    allow_private: bool = True,
) -> int:
    """Send the deliveries that are due; returns how many were attempted. A target that
    now resolves to a non-public address (targets.py) fails its attempt, unsent."""
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    """
                    SELECT d.id, d.attempts, d.subscription_id, s.url, s.secret,
                           e.id AS event_id, e.type, e.occurred_at, e.payload
                    FROM webhook_deliveries d
                    JOIN webhook_subscriptions s ON s.id = d.subscription_id
                    JOIN events e ON e.id = d.event_id
                    WHERE d.state = 'pending' AND d.next_attempt_at <= now() AND s.active
                    ORDER BY d.next_attempt_at, d.id
                    LIMIT :batch
                    FOR UPDATE OF d SKIP LOCKED
                    """
                ),
                {"batch": batch},
            )
        ).all()
        for row in rows:
            body = json.dumps(
                {
                    "id": row.event_id,
                    "type": row.type,
                    "occurred_at": row.occurred_at.isoformat(),
                    "data": row.payload,
                },
                ensure_ascii=False,
            ).encode("utf-8")
            status: int | None = None
            error: str | None = None
            try:
                await check_target(row.url, allow_private=allow_private)
                response = await client.post(
                    row.url,
                    content=body,
                    timeout=TIMEOUT_S,
                    headers={
                        "Content-Type": "application/json",
                        "X-Bordermark-Event": row.type,
                        "X-Bordermark-Delivery": str(row.id),
                        "X-Bordermark-Signature": signature_header(row.secret, body),
                    },
                )
                status = response.status_code
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
            except ForbiddenTarget as exc:
                error = str(exc)[:500]
            if status is not None and 200 <= status < 300:
                await session.execute(
                    text(
                        "UPDATE webhook_deliveries SET state = 'delivered', "
                        "attempts = attempts + 1, last_status_code = :s, last_error = NULL, "
                        "delivered_at = now() WHERE id = :id"
                    ),
                    {"s": status, "id": row.id},
                )
                await session.execute(
                    text(
                        "UPDATE webhook_subscriptions SET consecutive_failures = 0 WHERE id = :id"
                    ),
                    {"id": row.subscription_id},
                )
                continue
            attempts = row.attempts + 1
            await session.execute(
                text(
                    "UPDATE webhook_deliveries SET attempts = CAST(:a AS integer), "
                    "last_status_code = :s, "
                    "last_error = :err, next_attempt_at = :next, "
                    "state = CASE WHEN CAST(:a AS integer) >= CAST(:max AS integer) THEN 'dead' "
                    "ELSE 'pending' END WHERE id = :id"
                ),
                {
                    "a": attempts,
                    "s": status,
                    "err": error or f"HTTP {status}",
                    "id": row.id,
                    "next": datetime.now(UTC) + backoff(attempts),
                    "max": MAX_ATTEMPTS,
                },
            )
            if attempts < MAX_ATTEMPTS:
                continue  # retried later: only a delivery that dies counts against the target
            await session.execute(
                text(
                    "UPDATE webhook_subscriptions "
                    "SET consecutive_failures = consecutive_failures + 1, "
                    "active = active AND consecutive_failures + 1 < :limit, "
                    "disabled_reason = CASE WHEN consecutive_failures + 1 >= :limit "
                    "THEN :reason ELSE disabled_reason END WHERE id = :id"
                ),
                {
                    "id": row.subscription_id,
                    "limit": DISABLE_AFTER,
                    "reason": f"disabled after {DISABLE_AFTER} consecutive dead deliveries "
                    f"({MAX_ATTEMPTS} failed attempts each); deliveries are held until enabled",
                },
            )
        await session.commit()
        return len(rows)


async def run_worker(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    idle_s: float = 1.0,
    allow_private: bool = True,
) -> None:
    """Deliver until cancelled. Errors (the database away, say) are logged and retried."""
    async with httpx.AsyncClient(follow_redirects=False) as client:
        while True:
            try:
                sent = await deliver_due(sessionmaker, client, allow_private=allow_private)
            except asyncio.CancelledError:
                raise
            except Exception:  # the loop must outlive a failed round
                logger.exception("webhook delivery round failed")
                sent = 0
            if not sent:
                await asyncio.sleep(idle_s)


def worker(
    sessionmaker: async_sessionmaker[AsyncSession], *, allow_private: bool
) -> AbstractAsyncContextManager[asyncio.Task[None]]:
    return background(run_worker(sessionmaker, allow_private=allow_private))
