"""Where the bbox page's SQL time goes, part by part, from asyncpg, one call at a time.

    .venv/bin/python bench/page_cost.py --db URL [--calls 25] [--per-property]

`make bench`'s dense bbox page (1,000 features of the bbox around marker 1089) is the
service's one statement: the page's keys (the bbox's matches in key order), then the
features of those rows. This times that statement whole, its keys part alone (each of the
two ways it can find them: the geometry's index, the extent box's), and then,
over the page's 1,000 rows fetched by key, an aggregate of: the keys only, the geometry
only, the properties only, the whole feature built, and the stored feature (the text
incident_features keeps, which the page statement reads). The medians say what building
the features costs beside finding them, and what reading them stored costs instead.
--per-property times each property of bordermark_incident_properties (the database's
function, read from the database) over the page's rows.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import asyncpg
from floors import BBOX_PAGE, BENCH_CALLER, INCIDENTS, dense_bbox, service_statement

from app.geojson import COORD_DECIMALS
from app.incidents.queries import INCIDENT_PROPERTIES
from app.ogc.crs import CRS84
from app.ogc.params import Bbox
from app.ogc.statements import items_where

PROPERTIES_FUNCTION = "bordermark_incident_properties"


def keys_sql(box: list[float]) -> dict[str, str]:
    """The page's keys the two ways the service's statement can take (app/ogc/statements.py
    _keys_sql), each with the WHERE the service builds for this bbox: from the geometry's
    index, or from the extent box's index alone (where few match, as here). $1 is the
    page's length."""
    keys = items_where(INCIDENTS, BENCH_CALLER, Bbox(box, CRS84))
    assert not keys.params and keys.on_extent_box is not None  # an analyst's bbox, no more
    return {
        f"keys by {way}": f"SELECT array_agg(id) FROM (SELECT i.id FROM incidents i "  # noqa: S608
        f"WHERE {where} ORDER BY i.id LIMIT $1) k"
        for way, where in (("geometry", keys.where), ("extent box", keys.on_extent_box))
    }


BY_KEY = (
    "SELECT {agg}::text FROM incidents i LEFT JOIN borders b ON b.id = i.border_id "
    "WHERE i.id = ANY($1::uuid[])"
)
PARTS = {
    "keys only": "json_agg(i.id)",
    "geometry only": f"json_agg(ST_AsGeoJSON(i.geom, {COORD_DECIMALS})::json)",
    "properties only": f"json_agg({INCIDENT_PROPERTIES})",
    "whole feature": f"json_agg({INCIDENTS.feature})",
    "stored feature": "string_agg(s.feature, ',')",
}
STORED_BY_KEY = "SELECT {agg}::text FROM incident_features s WHERE s.incident_id = ANY($1::uuid[])"


async def median_ms(conn: asyncpg.Connection, sql: str, args: list[Any], calls: int) -> float:
    statement = await conn.prepare(sql)
    await statement.fetch(*args)  # warm
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        await statement.fetch(*args)  # every row: the page statement answers a row a feature
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def properties(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    """The properties function's json_build_object as (key, SQL) pairs: its arguments split
    at the top-level commas, its border parameter as the page query's join names it."""
    source = await conn.fetchval(
        "SELECT prosrc FROM pg_proc WHERE proname = $1", PROPERTIES_FUNCTION
    )
    body = source.strip().removeprefix("SELECT json_build_object(").removesuffix(")")
    body = body.replace("border_code", "b.code")
    parts, depth, current = [], 0, ""
    for ch in body:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return list(zip(parts[0::2], parts[1::2], strict=True))


async def per_property(conn: asyncpg.Connection, keys: list[Any], calls: int) -> None:
    one_key = await median_ms(
        conn, BY_KEY.format(agg="json_agg(json_build_object('a', 1))"), [keys], calls
    )
    for key, sql in await properties(conn):
        name = key.strip("'")
        copies = ", ".join(f"'{name}{n}', {sql}" for n in range(10))
        ms = await median_ms(
            conn, BY_KEY.format(agg=f"json_agg(json_build_object({copies}))"), [keys], calls
        )
        print(f"  {name:28s} {(ms - one_key) / 10:6.3f} ms per {len(keys)} rows  [{sql}]")


async def main(args: argparse.Namespace) -> None:
    box, matches, _ = await dense_bbox(args.db)
    conn = await asyncpg.connect(args.db, server_settings={"jit": "off"})
    try:
        page = service_statement(limit=BBOX_PAGE, bbox=box)
        print(f"{matches} incidents in the bbox; medians of {args.calls} calls")
        print(f"{'the page statement':18s} {await median_ms(conn, *page, args.calls):7.2f} ms")
        ways = keys_sql(box)
        keys = await conn.fetchval(ways["keys by geometry"], BBOX_PAGE)
        for name, sql in ways.items():
            assert await conn.fetchval(sql, BBOX_PAGE) == keys, "the two ways differ"
            print(f"{name:18s} {await median_ms(conn, sql, [BBOX_PAGE], args.calls):7.2f} ms")
        for name, agg in PARTS.items():
            by_key = STORED_BY_KEY if name == "stored feature" else BY_KEY
            ms = await median_ms(conn, by_key.format(agg=agg), [keys], args.calls)
            print(f"{name:18s} {ms:7.2f} ms over the page's {len(keys)} rows by key")
        if args.per_property:
            await per_property(conn, keys, args.calls)
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a bench database (postgresql://...)")
    parser.add_argument("--calls", type=int, default=25)
    parser.add_argument("--per-property", action="store_true")
    asyncio.run(main(parser.parse_args()))
