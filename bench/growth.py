"""The growth phase of `make bench`: the 500 m query at the sampled markers at the full
size, then at 100,000 and 10,000 incidents, the table thinned two ways
(bench/growth_states.py)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from functools import partial

import asyncpg
import growth_states
from client import Http
from floors import NEAR_M, sample_markers
from measure import Row, in_turns
from reads import near_floor, near_marker

GROWTH_SIZES = (100_000, 10_000)


@dataclass
class GrowthPoint:
    size: int  # incidents in the table
    p50: float  # seconds, the service's 500 m query through OGC items
    hits: float  # median incidents found per query
    floor: float  # seconds, the same statement from asyncpg


async def near_growth(
    url: str, base: str, analyst: str, rounds: int, total: int
) -> tuple[list[GrowthPoint], list[GrowthPoint]]:
    """The 500 m query's p50 over the sampled markers at the full size, then at 100,000 and
    10,000 incidents in two ways (bench/growth_states.py): the incidents thinned at random
    (the answers shrink with the table), and everything thinned but the incidents within
    500 m of the sampled markers (the same answers from a smaller table). Each way's
    points, from the full size down."""
    sample = await sample_markers(url)
    points = [(lon, lat) for _, lon, lat in sample]
    auth = {"Authorization": f"Bearer {analyst}"}
    conn = await asyncpg.connect(url)
    try:
        near = await growth_states.set_near_aside(conn, points, NEAR_M)
    finally:
        await conn.close()
    async with Http(timeout_s=120) as http:

        async def measured(size: int) -> GrowthPoint:
            latencies, hits, floors = [], [], []
            conn = await asyncpg.connect(url, server_settings={"jit": "off"})
            try:
                turn = 0
                for _ in range(max(1, rounds * 20 // len(points))):
                    for lon, lat in points:
                        (seconds, n), floor_s = await in_turns([
                            partial(near_marker, http, base, auth, lon, lat),
                            partial(near_floor, conn, lon, lat),
                        ], turn)  # fmt: skip
                        turn += 1
                        latencies.append(seconds)
                        hits.append(n)
                        floors.append(floor_s)
            finally:
                await conn.close()
            return GrowthPoint(size, statistics.median(latencies), statistics.median(hits),
                               statistics.median(floors))  # fmt: skip

        full = await measured(total)
        thinned, kept = [full], [full]
        for size in [n for n in GROWTH_SIZES if n < total]:
            conn = await asyncpg.connect(url)
            try:
                left = await growth_states.thin(conn, near=round(near * size / total), total=size)
                thinned.append(await measured(left))
                if near <= size:  # the near ones alone must fit in the smaller table
                    await growth_states.restore_near(conn)
                    kept.append(
                        await measured(await growth_states.thin(conn, near=near, total=size))
                    )
            finally:
                await conn.close()
    return thinned, kept


def growth_row(points: list[GrowthPoint], *, same_answers: bool) -> Row:
    big, small = points[0], points[-1]
    if small is big:  # no smaller size could hold every incident within 500 m
        return Row(f"500 m query at the sampled markers, p50 growth to {big.size:,} incidents: "
                   "the same answers", "x", None, None, "", None, "< 1.5 x", None,
                   "no smaller size holds every incident within 500 m of the sampled markers")  # fmt: skip
    detail = "; ".join(f"{p.size:,}: p50 {p.p50 * 1000:.1f} ms (floor {p.floor * 1000:.1f}), "
                       f"median {p.hits:.0f} hits" for p in points)  # fmt: skip
    how = ("the incidents within 500 m kept, the rest thinned (the same answers)" if same_answers
           else "all thinned at random (the answers shrink with the table)")  # fmt: skip
    return Row(f"500 m query at the sampled markers, p50 growth from {small.size:,} to "
               f"{big.size:,} incidents: {how}", "x", big.p50 / small.p50,
               big.floor / small.floor, "the SQL floor's own growth", None,
               "< 1.5 x", big.p50 / small.p50 < 1.5, detail)  # fmt: skip


def growth_rows(ways: tuple[list[GrowthPoint], list[GrowthPoint]]) -> list[Row]:
    thinned, kept = ways
    return [growth_row(thinned, same_answers=False), growth_row(kept, same_answers=True)]
