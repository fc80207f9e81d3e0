"""Folding the incident tallies' deltas into their counters (models.py says what they hold).

Every write to incidents appends delta rows; readers add deltas and counters, so the
summary is right without this. Compacting only keeps what readers add small: one
compactor at a time (an advisory lock in the SQL function), every few seconds.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractAsyncContextManager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.operations.background import background

log = logging.getLogger(__name__)


async def compact(session: AsyncSession) -> int:
    """Fold the committed deltas into the counters and commit; the number of delta rows
    folded (0 when another compactor holds the lock)."""
    moved = await session.scalar(text("SELECT bordermark_compact_tallies()"))
    await session.commit()
    return int(moved or 0)


async def rebuild(session: AsyncSession) -> None:
    """Recount from the incidents themselves, for when the triggers were bypassed."""
    await session.execute(text("SELECT bordermark_rebuild_tallies()"))
    await session.commit()


async def run_compactor(sessionmaker: async_sessionmaker[AsyncSession], every_s: float) -> None:
    while True:
        try:
            async with sessionmaker() as session:
                await compact(session)
        except Exception:  # a database restart must not end the loop; the next round retries
            log.exception("compacting the incident tallies failed")
        await asyncio.sleep(every_s)


def compactor(
    sessionmaker: async_sessionmaker[AsyncSession], every_s: float
) -> AbstractAsyncContextManager[asyncio.Task[None]]:
    return background(run_compactor(sessionmaker, every_s))
