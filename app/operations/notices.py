"""Change notices from the database to in-process caches, over one LISTEN connection.

Tables carry statement triggers that `NOTIFY` a channel; PostgreSQL delivers a notice only
after the writer commits. Each process LISTENs on its own connection and hands every
notice to the cache subscribed to its channel. While that connection is down a cache must
be off (notices could be missed): subscribers are told when listening starts and stops,
and drop what they hold both times."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import asyncpg

from app.operations.background import background

HEALTH_CHECK_S = 5.0
log = logging.getLogger("bordermark.notices")


class NoticeSubscriber(Protocol):
    channel: str

    def changed(self, payload: str) -> None:
        """A committed change; `payload` is what the trigger sent."""

    def set_listening(self, on: bool) -> None:
        """Listening started (True) or stopped (False): drop everything held either way."""


def listening(
    subscribers: Sequence[NoticeSubscriber], dsn: str
) -> AbstractAsyncContextManager[asyncio.Task[None]]:
    """Run the LISTEN loop for the application's lifetime."""
    return background(_listen(subscribers, dsn))


async def _listen(subscribers: Sequence[NoticeSubscriber], dsn: str) -> None:
    delay = 0.5
    on = False
    while True:
        conn: asyncpg.Connection | None = None
        try:
            conn = await asyncpg.connect(dsn, timeout=5)
            for subscriber in subscribers:
                await conn.add_listener(
                    subscriber.channel,
                    lambda _conn, _pid, _channel, payload, s=subscriber: s.changed(payload),
                )
            for subscriber in subscribers:  # notices may have been missed until now
                subscriber.set_listening(True)
            on, delay = True, 0.5
            while True:  # a dead connection shows up here, not as a missing notice
                await asyncio.sleep(HEALTH_CHECK_S)
                await asyncio.wait_for(conn.execute("SELECT 1"), timeout=HEALTH_CHECK_S)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure: caches off, reconnect with backoff
            if on:
                log.warning("caches off: change notices unavailable (%s)", exc)
            on = False
        finally:
            for subscriber in subscribers:
                subscriber.set_listening(False)
            if conn is not None and not conn.is_closed():
                conn.terminate()
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30.0)
