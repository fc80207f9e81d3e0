"""The read scenarios of `make bench`: the dense bbox page against tipg and its floor, the
500 m query against its floor and the bare server, and vector tiles cold and cached."""

from __future__ import annotations

import asyncio
import math
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import asyncpg
from client import Http, wrk
from floors import (
    BBOX_PAGE,
    LEAN_NEAR,
    NEAR_LIMIT,
    near_filter,
    near_statement,
    sample_markers,
    service_statement,
)
from measure import CONCURRENCY, Row, Setup, in_turns, pct, sustained, timed_fetch


async def bbox_page(http: Http, base: str, auth: dict[str, str], bbox: str) -> bool:
    """One request of the bbox scenario: the first page of the dense bbox, whole."""
    r = await http.get(
        f"{base}/ogc/collections/incidents/items",
        params={"bbox": bbox, "limit": BBOX_PAGE}, headers=auth,
    )  # fmt: skip
    return r.status_code == 200


async def near_floor(conn: asyncpg.Connection, lon: float, lat: float) -> float:
    """Seconds for the service's own 500 m statement, from asyncpg."""
    sql, args = near_statement(lon, lat)
    return await timed_fetch(conn, sql, list(args))


async def floor_rate(
    pool: asyncpg.Pool, sql: str, args: list[Any], seconds: float
) -> tuple[float, list[float]]:
    """Statements per second from `pool`'s connections, CONCURRENCY at a time."""

    async def call() -> bool:
        async with pool.acquire() as conn:
            await conn.fetch(sql, *args)  # every row (fetchval would stop at the first)
        return True

    rate, lat, _ = await sustained(call, CONCURRENCY, seconds)
    return rate, lat


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int(
        (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    )


def wrk_rate(url: str, headers: dict[str, str], seconds: float) -> tuple[float, int] | None:
    """Requests per second of `wrk` (4 connections, one thread) on one URL, and how many
    answers were not 2xx; None without wrk."""
    out = wrk(url, headers, connections=CONCURRENCY, seconds=seconds)
    if out is None:
        return None
    rate = next(float(line.split()[1]) for line in out.splitlines() if "Requests/sec" in line)
    failed = next((int(line.split()[-1]) for line in out.splitlines() if "Non-2xx" in line), 0)
    return rate, failed


async def near_marker(
    http: Http, base: str, auth: dict[str, str], lon: float, lat: float
) -> tuple[float, int]:
    """The incidents within 500 m of a point through OGC items: (seconds, how many)."""
    return await _timed_page(
        http, f"{base}/ogc/collections/incidents/items",
        {"filter": near_filter(lon, lat), "limit": NEAR_LIMIT}, auth,
    )  # fmt: skip


async def bare_near(http: Http, bare: str, lon: float, lat: float) -> tuple[float, int]:
    """The same 500 m page from the bare ASGI server (bench/bare_server.py): (seconds, how
    many)."""
    return await _timed_page(http, f"{bare}/near", {"lon": lon, "lat": lat}, {})


async def _timed_page(
    http: Http, url: str, params: dict[str, Any], headers: dict[str, str]
) -> tuple[float, int]:
    """Seconds for one GET of a FeatureCollection, read whole, and its numberReturned
    (decoded after the timing)."""
    started = time.perf_counter()
    r = await http.get(url, params=params, headers=headers)
    seconds = time.perf_counter() - started
    assert r.status_code == 200, r.text
    return seconds, int(r.json()["numberReturned"])


BBOX_SCENARIO = "items in a bbox, 1,000 per page (4 concurrent)"


async def bbox_rows(setup: Setup, box: list[float], matches: int) -> list[Row]:
    """The dense bbox's first page, 4 concurrent: bordermark against tipg (both ways) and
    against its floor, the sides taking turns."""
    args, http = setup.args, setup.http
    bbox_text = ",".join(f"{v:.6f}" for v in box)
    # The sides take turns, --rounds windows each of --seconds in all: the machine's
    # speed moves from one minute to the next (tipg's rate doubled between two runs of
    # the same day), so each side's median is taken over the same stretches of time.
    window = max(3.0, args.seconds / args.rounds)

    async def ours() -> tuple[float, int]:
        rate, _, errors = await sustained(
            lambda: bbox_page(http, setup.base, setup.reader, bbox_text), CONCURRENCY, window
        )
        return rate, errors

    # The floor's connections, one per concurrent caller, open for all its turns.
    pool = await asyncpg.create_pool(
        setup.db, min_size=CONCURRENCY, max_size=CONCURRENCY, server_settings={"jit": "off"}
    )
    floor_sql, floor_args = service_statement(limit=BBOX_PAGE, bbox=list(box))

    async def floor() -> tuple[float, int]:
        return (await floor_rate(pool, floor_sql, floor_args, window))[0], 0

    def peer(at: str, headers: dict[str, str]) -> Callable[[], Awaitable[tuple[float, int]]]:
        async def items() -> bool:
            r = await http.get(
                f"{at}/collections/public.incidents/items",
                params={"bbox": bbox_text, "limit": BBOX_PAGE}, headers=headers,
            )  # fmt: skip
            assert r.status_code == 200, f"tipg items: {r.status_code} {r.text[:200]}"
            return True

        async def rate() -> tuple[float, int]:
            return (await sustained(items, CONCURRENCY, window))[0], 0

        return rate

    sides: dict[str, Callable[[], Awaitable[tuple[float, int]]]] = {
        "bordermark": ours,
        "floor": floor,
    }
    if setup.tipg:
        sides["tipg"] = peer(setup.tipg, {})
    if setup.tipg_fair:
        sides["fair"] = peer(setup.tipg_fair, {"Accept-Encoding": "identity"})
    rates: dict[str, list[float]] = {name: [] for name in sides}
    ours_err = 0
    try:
        for turn in range(args.rounds):
            measured = await in_turns(list(sides.values()), turn)
            for name, (rate, errors) in zip(sides, measured, strict=True):
                rates[name].append(rate)
                ours_err += errors if name == "bordermark" else 0
    finally:
        await pool.close()
    ours_rate, floor_rate_ = (statistics.median(rates[n]) for n in ("bordermark", "floor"))
    tipg_rate = statistics.median(rates["tipg"]) if "tipg" in rates else None
    fair_rate = statistics.median(rates["fair"]) if "fair" in rates else None
    spread = ", ".join(f"{name} {min(v):.1f}-{max(v):.1f}" for name, v in rates.items())
    note = (f"{matches} incidents in the bbox; {ours_err} errors; medians of {args.rounds} "
            f"turns of {window:g} s each (min-max/s: {spread})")  # fmt: skip
    rows = [Row(BBOX_SCENARIO, "requests/s", ours_rate, tipg_rate, "tipg",
                ours_rate / tipg_rate if tipg_rate else None, ">= 10 x tipg",
                (ours_rate >= 10 * tipg_rate) if tipg_rate else None, note)]  # fmt: skip
    if fair_rate:
        rows.append(Row(BBOX_SCENARIO, "requests/s", ours_rate, fair_rate,
                        "tipg, fair settings (no compression)", ours_rate / fair_rate,
                        ">= 10 x tipg", ours_rate >= 10 * fair_rate, note))  # fmt: skip
    rows.append(Row(BBOX_SCENARIO, "requests/s", ours_rate, floor_rate_,
                    "SQL floor: the service's statement (asyncpg)", ours_rate / floor_rate_,
                    ">= 0.5 x floor", ours_rate >= 0.5 * floor_rate_, note))  # fmt: skip
    return rows


async def near_rows(setup: Setup, marker_1089: tuple[float, float]) -> list[Row]:
    """Within 500 m of a marker: latency one request at a time, over the sample of markers
    (the target), and at marker 1089 alone (the Hữu Nghị gate, the densest). The service,
    its floor, the lean query and the bare server take turns, request by request."""
    assert setup.bare is not None, "the 500 m rows need the bare server"
    http, bare = setup.http, setup.bare
    sample = await sample_markers(setup.db)
    rows: list[Row] = []
    conn = await asyncpg.connect(setup.db, server_settings={"jit": "off"})
    try:
        for label, points in (
            (f"{len(sample)} sampled markers", [(lon, lat) for _, lon, lat in sample]),
            ("marker 1089 (busiest gate)", [marker_1089]),
        ):
            ours_lat, floor_lat, lean_lat, bare_lat, hits = [], [], [], [], []
            turn = 0
            for _ in range(max(1, setup.args.rounds * 20 // len(points))):
                for lon, lat in points:
                    (seconds, n), floor_s, lean_s, (bare_s, bare_n) = await in_turns([
                        partial(near_marker, http, setup.base, setup.reader, lon, lat),
                        partial(near_floor, conn, lon, lat),
                        partial(timed_fetch, conn, LEAN_NEAR, [lon, lat]),
                        partial(bare_near, http, bare, lon, lat),
                    ], turn)  # fmt: skip
                    assert bare_n == n, (bare_n, n)  # the same answers, or no reference
                    turn += 1
                    ours_lat.append(seconds)
                    hits.append(n)
                    floor_lat.append(floor_s)
                    lean_lat.append(lean_s)
                    bare_lat.append(bare_s)
            p50, fp50 = statistics.median(ours_lat), statistics.median(floor_lat)
            lp50, bp50 = statistics.median(lean_lat), statistics.median(bare_lat)
            target = len(points) > 1
            scenario = f"incidents within 500 m of a marker: {label}"
            rows.append(Row(scenario, "p50 ms", p50 * 1000, fp50 * 1000,
                            "SQL floor: the service's statement (asyncpg)", p50 / fp50,
                            "p50 <= 1.5 x floor" if target else "(not a target)",
                            (p50 <= 1.5 * fp50) if target else None,
                            f"p99 {pct(ours_lat, 0.99) * 1000:.1f} ms vs floor "
                            f"{pct(floor_lat, 0.99) * 1000:.1f} ms; hits per query: median "
                            f"{statistics.median(hits):.0f}, max {max(hits)}"))  # fmt: skip
            if target:
                rows.append(Row(scenario, "p50 ms", p50 * 1000, bp50 * 1000,
                                "bare ASGI server: uvicorn and asyncpg, the same statement, "
                                "nothing else (bench/bare_server.py)", p50 / bp50,
                                "(a reference)", None,
                                f"the bare server is {bp50 / fp50:.1f} x the SQL floor: "
                                f"1.5 x would leave it {(1.5 * fp50 - bp50) * 1000:.1f} ms "
                                f"for the service's own work; the service takes "
                                f"{(p50 - bp50) * 1000:.1f} ms more than the bare server; "
                                f"p99 bare {pct(bare_lat, 0.99) * 1000:.1f} ms"))  # fmt: skip
                rows.append(Row(scenario, "p50 ms", p50 * 1000, lp50 * 1000,
                                "lean SQL: the same features, unordered, unpaged (asyncpg)",
                                p50 / lp50, "(a reference)", None,
                                f"the service's statement is {fp50 / lp50:.1f} x the lean "
                                f"query; p99 lean {pct(lean_lat, 0.99) * 1000:.1f} ms"))  # fmt: skip
    finally:
        await conn.close()
    return rows


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


async def tile_rows(setup: Setup, marker_1089: tuple[float, float]) -> list[Row]:
    """Tiles over the dense area at z8 and z12: cold (distinct tiles) against tipg, and one
    tile repeated (from the cache)."""
    http, base, auth = setup.http, setup.base, setup.reader
    rows: list[Row] = []
    for z in (8, 12):
        cx, cy = tile_of(*marker_1089, z)
        tiles = [(cx + dx, cy + dy) for dx in range(-3, 4) for dy in range(-3, 4)]

        async def cold(
            url_of: Callable[[int, int], str],
            headers: dict[str, str],
            fresh: bool = False,
            tiles: list[tuple[int, int]] = tiles,
        ) -> tuple[float, int]:
            """Every tile once, one at a time: (tiles/s, bytes). `fresh` sends a new
            query string each time, which defeats bordermark's cache: cold renders."""
            started, size = time.perf_counter(), 0
            for x, y in tiles:
                params = {"since": f"2000-01-{1 + random.randint(0, 27):02d}"} if fresh else None
                size += len((await http.get(url_of(x, y), params=params, headers=headers)).content)
            return len(tiles) / (time.perf_counter() - started), size

        def ours_at(x: int, y: int, z: int = z) -> str:
            return f"{base}/tiles/incidents/{z}/{x}/{y}.mvt"

        def tipg_at(peer: str, z: int = z) -> Callable[[int, int], str]:
            return lambda x, y: (
                f"{peer}/collections/public.incidents/tiles/WebMercatorQuad/{z}/{x}/{y}"
            )

        ours_cold, ours_bytes = await cold(ours_at, auth, fresh=True)
        ours_note = f"{len(tiles)} tiles around marker 1089, one at a time, {_mb(ours_bytes)}"
        if setup.tipg_fair:
            fair_cold, fair_bytes = await cold(
                tipg_at(setup.tipg_fair), {"Accept-Encoding": "identity"}
            )
            rows.append(Row(f"vector tile of incidents at z{z}, cold", "tiles/s", ours_cold,
                            fair_cold, "tipg, fair settings (every feature, no compression)",
                            ours_cold / fair_cold, ">= 1.5 x tipg", ours_cold >= 1.5 * fair_cold,
                            f"{ours_note}; tipg sends every point ({_mb(fair_bytes)}), bordermark "
                            "groups a tile past 10,000 incidents into cells with counts"))  # fmt: skip
        tipg_cold = tipg_bytes = None
        if setup.tipg:
            tipg_cold, tipg_bytes = await cold(tipg_at(setup.tipg), {})
        rows.append(Row(f"vector tile of incidents at z{z}, cold", "tiles/s", ours_cold, tipg_cold,
                        "tipg", ours_cold / tipg_cold if tipg_cold else None, ">= 1.5 x tipg",
                        (ours_cold >= 1.5 * tipg_cold) if tipg_cold else None,
                        f"{ours_note}; tipg's default keeps the first 10,000 features of a "
                        f"tile and drops the rest ({_mb(tipg_bytes or 0)} once decompressed)"))  # fmt: skip

        tile_url = f"{base}/tiles/incidents/{z}/{cx}/{cy}.mvt"

        async def cached(tile_url: str = tile_url) -> bool:
            r = await http.get(tile_url, headers=auth)
            return r.headers.get("x-tile-cache") == "hit"

        for _ in range(4 * setup.args.bordermark_workers):  # every worker renders it once
            await http.get(tile_url, headers=auth)
        loaded = await asyncio.to_thread(wrk_rate, tile_url, auth, setup.args.seconds)
        if loaded is not None:  # wrk: a load generator far lighter than this process
            hit_rate, failed = loaded
            sampled = [await cached() for _ in range(20)]
            note = (
                f"wrk, {CONCURRENCY} connections: {failed} not 2xx; {sum(sampled)}/20 sampled hits"
            )
        else:
            hit_rate, _, misses = await sustained(cached, CONCURRENCY, setup.args.seconds)
            note = f"aiohttp (no wrk): {misses} misses"
        rows.append(Row(f"repeated vector tile at z{z} (cache)", "tiles/s", hit_rate, None, "",
                        None, ">= 500/s", hit_rate >= 500, note))  # fmt: skip
    return rows
