"""What every scenario of `make bench` measures with: its result row, what it runs
against, load for a bounded time, percentiles, and sides taking turns."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from client import Http

CONCURRENCY = 4


@dataclass
class Row:
    """One line of the results table: bordermark's figure, what it is compared with, the
    target and whether it was met (None where the row is a reference, not a target)."""

    scenario: str
    measure: str
    bordermark: float | None
    reference: float | None  # the peer or the floor it is compared with
    reference_name: str
    ratio: float | None
    target: str
    met: bool | None
    note: str = ""


@dataclass(frozen=True)
class Setup:
    """What the scenarios run against: the bench's options, its HTTP client, the bench
    database, bordermark (`base`) with a reader's and a writer's tokens, and
    the references beside it (tipg with its defaults and with fair settings, the bare
    server: None when not started)."""

    args: argparse.Namespace
    http: Http
    db: str
    base: str
    analyst: str  # a reader's token
    admin: str  # a writer's token
    tipg: str | None = None
    tipg_fair: str | None = None
    bare: str | None = None

    @property
    def reader(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.analyst}"}

    @property
    def writer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin}"}


async def sustained(
    call: Callable[[], Awaitable[bool]], concurrency: int, seconds: float
) -> tuple[float, list[float], int]:
    """Run `call` from `concurrency` workers for `seconds`: (ok per second, latencies, errors)."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            ok = await call()
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies) / (time.perf_counter() - started), latencies, errors


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def timed_fetch(conn: asyncpg.Connection, sql: str, args: list[Any]) -> float:
    """Seconds for one statement from asyncpg, its rows read."""
    started = time.perf_counter()
    await conn.fetch(sql, *args)
    return time.perf_counter() - started


async def in_turns(calls: list[Callable[[], Awaitable[Any]]], turn: int) -> list[Any]:
    """The calls' results, in the calls' order, the calls run one after another starting
    at a different one each turn. The same statement run right after another over the
    same rows is about 7 % faster (2.68 against 2.50 ms at the sampled markers, 2026-12-02,
    warm caches), so a fixed order would favour whichever side comes later."""
    results: list[Any] = [None] * len(calls)
    for k in range(len(calls)):
        i = (turn + k) % len(calls)
        results[i] = await calls[i]()
    return results
