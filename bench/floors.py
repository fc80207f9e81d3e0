"""What the bench asks of the data, and the SQL floors of those questions: the dense bbox
around marker 1089, the sampled markers of the 500 m query, and the statements the service
sends for them (built by the service's own code) to run from asyncpg."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.auth.caller import Caller
from app.auth.models import Role
from app.db import positional_sql
from app.layers import LAYERS
from app.ogc.statements import items_page_statement

BBOX_PAGE = 1000


async def dense_bbox(url: str) -> tuple[list[float], int, list[float]]:
    """A bbox around marker 1089 holding somewhat over one page of incidents, and the
    marker's position."""
    conn = await asyncpg.connect(url)
    try:
        lon, lat = await conn.fetchrow(
            "SELECT ST_X(geom), ST_Y(geom) FROM markers WHERE code = '1089' LIMIT 1"
        )
        half = 0.005
        while True:
            box = [lon - half, lat - half, lon + half, lat + half]
            n = await conn.fetchval(
                "SELECT count(*) FROM incidents WHERE geom && ST_MakeEnvelope($1,$2,$3,$4,4326)",
                *box,
            )
            if n >= BBOX_PAGE * 1.3 or half > 0.5:
                return box, int(n), [lon, lat]
            half *= 1.4
    finally:
        await conn.close()


NEAR_SAMPLE = 20


async def sample_markers(url: str) -> list[tuple[str, float, float]]:
    """A fixed pseudo-random sample of VN-CN and VN-LA markers (the same every run and at
    every size of the growth phase): "which events lie near marker X" for a typical X,
    quiet stretches and busy gates alike, as they come."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT b.code || ':' || m.code, ST_X(m.geom), ST_Y(m.geom) FROM markers m "
            "JOIN borders b ON b.id = m.border_id WHERE b.code IN ('VN-CN', 'VN-LA') "
            "ORDER BY md5(b.code || m.code) LIMIT $1",
            NEAR_SAMPLE,
        )
        return [(r[0], float(r[1]), float(r[2])) for r in rows]
    finally:
        await conn.close()


# The floors are the very statements the service sends for the same requests (built by the
# same code, app/ogc/statements.py items_page_statement), run from asyncpg: what PostgreSQL
# alone costs for them.
INCIDENTS = LAYERS["incidents"]
BENCH_CALLER = Caller(token_id=None, name="bench", role=Role.analyst)


def service_statement(
    *, limit: int, bbox: list[float] | None = None, cql_text: str | None = None
) -> tuple[str, list[Any]]:
    """The service's statement for an items page, with positional parameters for asyncpg."""
    page = items_page_statement(INCIDENTS, BENCH_CALLER, limit=limit, bbox=bbox, cql_text=cql_text)
    positional, names = positional_sql(page.text)
    return positional, [page.params[name] for name in names]


# Beside the 500 m request's floor, a lean query as a reference: the same features,
# unordered and unpaged, the least any server could ask PostgreSQL for.
NEAR_M, NEAR_LIMIT = 500, 10_000
LEAN_NEAR = f"""
SELECT coalesce(json_agg({INCIDENTS.feature}), '[]')::text
FROM {INCIDENTS.source}
WHERE ST_DWithin(i.geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, {NEAR_M})
"""  # noqa: S608


def near_filter(lon: float, lat: float) -> str:
    return f"S_DWITHIN(geometry, POINT({lon} {lat}), {NEAR_M}, meters)"


@functools.lru_cache(maxsize=256)
def near_statement(lon: float, lat: float) -> tuple[str, tuple[Any, ...]]:
    """The service's 500 m statement at a point, built (its CQL2 parsed) once a point: the
    floor and the bare server run it at the same sampled points over and over."""
    sql, args = service_statement(limit=NEAR_LIMIT, cql_text=near_filter(lon, lat))
    return sql, tuple(args)
