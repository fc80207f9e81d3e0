"""`make bench`: bordermark side by side with tipg and with the database's own floor, on a
synthetic dataset (default one million incidents along the VN-CN and VN-LA lines).

Method: a private PostgreSQL cluster in a temporary directory, migrated, demo data loaded,
N incidents and N/25 clearing works generated in SQL (bench/dataset.py: clustered at gates
and named sites of VN-CN and VN-LA, 2016-2026, most settled after realistic delays).
bordermark runs as `bordermark serve --workers B` (B = 1, its default: on two cores the
database needs the other, and one worker's submission coalescer gathers larger groups) and
tipg as `uvicorn tipg.main:app --workers W` (W = the cores) from its own virtualenv
(bench/.venv-tipg), both on loopback against the same database, rate limits off. The load
comes from this process (asyncio + aiohttp through bench/client.py; asyncpg for the SQL
floors; wrk for the POSTs and the cached tiles), which is not the system under test. Each
scenario runs for a bounded time; figures are medians of rounds.

Run: .venv/bin/python bench/run.py [--quick] [--rows N] [--seconds S] [--rounds R]
Writes bench/results/<date>.md and .json. Not a test: figures vary with the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import growth_states  # noqa: E402
from client import Http, wrk  # noqa: E402
from scale_reports_exports import export_run, free_port, prepare, rss_kb, summary_rounds  # noqa: E402

from app.auth.caller import Caller  # noqa: E402
from app.auth.models import Role  # noqa: E402
from app.db import _positional  # noqa: E402
from app.embedded_pg import EmbeddedCluster, ensure_postgis_installed, find_bin_dir  # noqa: E402
from app.ogc.collections import COLLECTIONS  # noqa: E402
from app.ogc.router import items_page_statement  # noqa: E402

TIPG_VENV = Path(os.environ.get("BORDERMARK_BENCH_TIPG_VENV", ROOT / "bench" / ".venv-tipg"))
BBOX_PAGE = 1000
CONCURRENCY = 4


@dataclass
class Row:
    scenario: str
    measure: str
    bordermark: float | None
    reference: float | None  # the peer or the floor it is compared with
    reference_name: str
    ratio: float | None
    target: str
    met: bool | None
    note: str = ""


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


POST_TITLE = "bench post"


def post_body(i: int) -> dict[str, Any]:
    """The bench's new report: a fence at a chainage between markers 1000 and 1200 of VN-CN."""
    return {
        "type": "Feature", "id": str(uuid.uuid4()),
        "location": f"VN-CN:{random.randint(1000, 1200)}+{random.randint(0, 300)}",
        "properties": {"category": "fence", "title": f"{POST_TITLE} {i}",
                       "occurred_at": "2026-11-20T08:00:00+07:00"},
    }  # fmt: skip


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def start_process(args: list[str], env: dict[str, str], health: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(300):
        try:
            if httpx.get(health, timeout=2).status_code < 500:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{args[0]} did not start")


def ensure_tipg() -> Path | None:
    python = TIPG_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "tipg", "uvicorn"],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            print("tipg could not be installed:", done.stderr[-500:])
            return None
    return python


def token(env: dict[str, str], role: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "token", "create", "--role", role, "--name", "bench"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip().splitlines()[-1]


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


async def bbox_page(http: Http, base: str, auth: dict[str, str], bbox: str) -> bool:
    """One request of the bbox scenario: the first page of the dense bbox, whole."""
    r = await http.get(
        f"{base}/ogc/collections/incidents/items",
        params={"bbox": bbox, "limit": BBOX_PAGE}, headers=auth,
    )  # fmt: skip
    return r.status_code == 200


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
# same code, app/ogc/router.py items_page_statement), run from asyncpg: what PostgreSQL
# alone costs for them.
INCIDENTS = COLLECTIONS["incidents"]
BENCH_CALLER = Caller(token_id=None, name="bench", role=Role.analyst)


def service_statement(
    *, limit: int, bbox: list[float] | None = None, cql_text: str | None = None
) -> tuple[str, list[Any]]:
    """The service's statement for an items page, with positional parameters for asyncpg."""
    sql, params = items_page_statement(
        INCIDENTS, BENCH_CALLER, limit=limit, bbox=bbox, cql_text=cql_text
    )
    positional, names = _positional(sql)
    return positional, [params[name] for name in names]


# Beside the 500 m request's floor, a lean query as a reference: the same features,
# unordered and unpaged, the least any server could ask PostgreSQL for.
NEAR_M, NEAR_LIMIT = 500, 10_000
LEAN_NEAR = f"""
SELECT coalesce(json_agg({INCIDENTS.feature}), '[]')::text
FROM {INCIDENTS.source}
WHERE ST_DWithin(i.geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, {NEAR_M})
"""


def near_filter(lon: float, lat: float) -> str:
    return f"S_DWITHIN(geometry, POINT({lon} {lat}), {NEAR_M}, meters)"


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


async def near_floor(conn: asyncpg.Connection, lon: float, lat: float) -> float:
    """Seconds for the service's own 500 m statement, from asyncpg."""
    return await timed_fetch(
        conn, *service_statement(limit=NEAR_LIMIT, cql_text=near_filter(lon, lat))
    )


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
    import math

    n = 2**z
    return int((lon + 180) / 360 * n), int(
        (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    )


async def run_scenarios(
    args: argparse.Namespace,
    url: str,
    base: str,
    tipg: str | None,
    tipg_fair: str | None,
    bare: str,
    analyst: str,
    admin: str,
) -> list[Row]:
    rows: list[Row] = []
    box, matches, (mlon, mlat) = await dense_bbox(url)
    auth_a = {"Authorization": f"Bearer {analyst}"}
    auth_w = {"Authorization": f"Bearer {admin}"}
    async with Http(timeout_s=120, connections=32) as http:
        bbox_text = ",".join(f"{v:.6f}" for v in box)

        async def ours() -> tuple[float, int]:
            rate, _, errors = await sustained(
                lambda: bbox_page(http, base, auth_a, bbox_text), CONCURRENCY, window
            )
            return rate, errors

        # The floor's connections, one per concurrent caller, open for all its turns.
        pool = await asyncpg.create_pool(
            url, min_size=CONCURRENCY, max_size=CONCURRENCY, server_settings={"jit": "off"}
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

        # The sides take turns, --rounds windows each of --seconds in all: the machine's
        # speed moves from one minute to the next (tipg's rate doubled between two runs of
        # the same day), so each side's median is taken over the same stretches of time.
        window = max(3.0, args.seconds / args.rounds)
        sides: dict[str, Callable[[], Awaitable[tuple[float, int]]]] = {
            "bordermark": ours,
            "floor": floor,
        }
        if tipg:
            sides["tipg"] = peer(tipg, {})
        if tipg_fair:
            sides["fair"] = peer(tipg_fair, {"Accept-Encoding": "identity"})
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
        rows.append(Row("items in a bbox, 1,000 per page (4 concurrent)", "requests/s", ours_rate,
                        tipg_rate, "tipg", ours_rate / tipg_rate if tipg_rate else None,
                        ">= 10 x tipg", (ours_rate >= 10 * tipg_rate) if tipg_rate else None, note))  # fmt: skip
        if fair_rate:
            rows.append(Row("items in a bbox, 1,000 per page (4 concurrent)", "requests/s", ours_rate,
                            fair_rate, "tipg, fair settings (no compression)", ours_rate / fair_rate,
                            ">= 10 x tipg", ours_rate >= 10 * fair_rate, note))  # fmt: skip
        rows.append(Row("items in a bbox, 1,000 per page (4 concurrent)", "requests/s", ours_rate,
                        floor_rate_, "SQL floor: the service's statement (asyncpg)",
                        ours_rate / floor_rate_, ">= 0.5 x floor", ours_rate >= 0.5 * floor_rate_,
                        note))  # fmt: skip

        # Within 500 m of a marker: latency one request at a time, over the sample of
        # markers (the target), and at marker 1089 alone (the Hữu Nghị gate, the densest).
        sample = await sample_markers(url)
        conn = await asyncpg.connect(url, server_settings={"jit": "off"})
        try:
            for label, points in (
                (f"{len(sample)} sampled markers", [(lon, lat) for _, lon, lat in sample]),
                ("marker 1089 (busiest gate)", [(mlon, mlat)]),
            ):
                ours_lat, floor_lat, lean_lat, bare_lat, hits = [], [], [], [], []
                turn = 0
                for _ in range(max(1, args.rounds * 20 // len(points))):
                    for lon, lat in points:
                        (seconds, n), floor_s, lean_s, (bare_s, bare_n) = await in_turns([
                            partial(near_marker, http, base, auth_a, lon, lat),
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

        # POST incidents with context, idempotency and audit.
        post_rate, statuses, client_note = await post_scenario(http, base, admin, args.seconds)
        post_err = sum(n for status, n in statuses.items() if status != 201)
        rows.append(Row("POST incident with context, idempotency and audit (8 concurrent)",
                        "incidents/s", post_rate, None, "", None, ">= 400/s",
                        post_rate >= 400 and post_err == 0,
                        f"{client_note}: answers {statuses}; {post_err} not 201"))  # fmt: skip

        # Batch sync of 500.
        counter = iter(range(10**9))
        batch_times = []
        for _ in range(args.rounds):
            items = [post_body(next(counter)) for _ in range(500)]
            body = json.dumps({"features": items}).encode()  # the client's work, not timed
            started = time.perf_counter()
            r = await http.post(f"{base}/api/v1/incidents:batch", body=body, headers=auth_w)
            batch_times.append(time.perf_counter() - started)
            assert r.status_code == 200, r.text[:300]
        batch_rate = 500 / statistics.median(batch_times)
        rows.append(Row("batch sync of 500 incidents", "incidents/s", batch_rate, None, "", None,
                        ">= 3,000/s", batch_rate >= 3000,
                        f"median batch {statistics.median(batch_times):.2f} s over {args.rounds}"))  # fmt: skip

        # Tiles over the dense area: cold (distinct tiles) vs tipg, and repeated (cache).
        for z in (8, 12):
            cx, cy = tile_of(mlon, mlat, z)
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
                    params = (
                        {"since": f"2000-01-{1 + random.randint(0, 27):02d}"} if fresh else None
                    )
                    size += len(
                        (await http.get(url_of(x, y), params=params, headers=headers)).content
                    )
                return len(tiles) / (time.perf_counter() - started), size

            def ours_at(x: int, y: int, z: int = z) -> str:
                return f"{base}/tiles/incidents/{z}/{x}/{y}.mvt"

            def tipg_at(peer: str, z: int = z) -> Callable[[int, int], str]:
                return lambda x, y: (
                    f"{peer}/collections/public.incidents/tiles/WebMercatorQuad/{z}/{x}/{y}"
                )

            ours_cold, ours_bytes = await cold(ours_at, auth_a, fresh=True)
            mb = lambda n: f"{n / 1e6:.1f} MB"  # noqa: E731
            ours_note = f"{len(tiles)} tiles around marker 1089, one at a time, {mb(ours_bytes)}"
            if tipg_fair:
                fair_cold, fair_bytes = await cold(
                    tipg_at(tipg_fair), {"Accept-Encoding": "identity"}
                )
                rows.append(Row(f"vector tile of incidents at z{z}, cold", "tiles/s", ours_cold,
                                fair_cold, "tipg, fair settings (every feature, no compression)",
                                ours_cold / fair_cold, ">= 1.5 x tipg", ours_cold >= 1.5 * fair_cold,
                                f"{ours_note}; tipg sends every point ({mb(fair_bytes)}), bordermark "
                                "groups a tile past 10,000 incidents into cells with counts"))  # fmt: skip
            tipg_cold = tipg_bytes = None
            if tipg:
                tipg_cold, tipg_bytes = await cold(tipg_at(tipg), {})
            rows.append(Row(f"vector tile of incidents at z{z}, cold", "tiles/s", ours_cold, tipg_cold,
                            "tipg", ours_cold / tipg_cold if tipg_cold else None, ">= 1.5 x tipg",
                            (ours_cold >= 1.5 * tipg_cold) if tipg_cold else None,
                            f"{ours_note}; tipg's default keeps the first 10,000 features of a "
                            f"tile and drops the rest ({mb(tipg_bytes or 0)} once decompressed)"))  # fmt: skip

            tile_url = f"{base}/tiles/incidents/{z}/{cx}/{cy}.mvt"

            async def cached(tile_url: str = tile_url) -> bool:
                r = await http.get(tile_url, headers=auth_a)
                return r.headers.get("x-tile-cache") == "hit"

            for _ in range(4 * args.bordermark_workers):  # every worker renders it once
                await http.get(tile_url, headers=auth_a)
            loaded = await asyncio.to_thread(wrk_rate, tile_url, auth_a, args.seconds)
            if loaded is not None:  # wrk: a load generator far lighter than this process
                hit_rate, failed = loaded
                sampled = [await cached() for _ in range(20)]
                note = f"wrk, {CONCURRENCY} connections: {failed} not 2xx; {sum(sampled)}/20 sampled hits"
            else:
                hit_rate, _, misses = await sustained(cached, CONCURRENCY, args.seconds)
                note = f"aiohttp (no wrk): {misses} misses"
            rows.append(Row(f"repeated vector tile at z{z} (cache)", "tiles/s", hit_rate, None, "",
                            None, ">= 500/s", hit_rate >= 500, note))  # fmt: skip
    return rows


POST_CONCURRENCY = 8
POST_SCRIPT = ROOT / "bench" / "post.lua"


def wrk_post_rate(base: str, token: str, seconds: float) -> tuple[float, dict[int, int]] | None:
    """New reports POSTed by `wrk` (8 connections, one thread, bench/post.lua: post_body's
    reports): (requests per second, answers per status); None without wrk."""
    out = wrk(
        f"{base}/api/v1/incidents",
        {"Authorization": f"Bearer {token}"},
        connections=POST_CONCURRENCY,
        seconds=seconds,
        script=POST_SCRIPT,
    )
    if out is None:
        return None
    rate = next(float(line.split()[1]) for line in out.splitlines() if "Requests/sec" in line)
    counted = next(line for line in out.splitlines() if line.startswith("statuses"))
    statuses = {int(s): int(n) for s, n in (p.split("=") for p in counted.split()[1:])}
    # "Socket errors: connect 0, read 0, write 0, timeout 0": requests with no answer
    failed = next((line for line in out.splitlines() if "Socket errors" in line), "")
    unanswered = sum(int(n.strip(",")) for n in failed.split()[3::2])
    if unanswered:
        statuses[0] = unanswered
    return rate, statuses


async def post_scenario(
    http: Http, base: str, token: str, seconds: float
) -> tuple[float, dict[int, int], str]:
    """New reports POSTed for `seconds`, POST_CONCURRENCY at a time: (POSTs per second,
    answers per status, the client that sent them). By wrk (bench/post.lua) when it is
    installed, a tenth of aiohttp's CPU a request on the cores the service and the database
    share; by aiohttp otherwise."""
    by_wrk = await asyncio.to_thread(wrk_post_rate, base, token, seconds)
    if by_wrk is not None:
        return (*by_wrk, "wrk, bench/post.lua")
    counter = iter(range(10**9))
    statuses: dict[int, int] = {}
    auth = {"Authorization": f"Bearer {token}"}

    async def post() -> bool:
        r = await http.post(f"{base}/api/v1/incidents", json=post_body(next(counter)), headers=auth)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        return r.status_code == 201

    rate, _, _ = await sustained(post, POST_CONCURRENCY, seconds)
    return rate, statuses, "aiohttp (no wrk)"


def wrk_rate(url: str, headers: dict[str, str], seconds: float) -> tuple[float, int] | None:
    """Requests per second of `wrk` (4 connections, one thread) on one URL, and how many
    answers were not 2xx; None without wrk."""
    out = wrk(url, headers, connections=CONCURRENCY, seconds=seconds)
    if out is None:
        return None
    rate = next(float(line.split()[1]) for line in out.splitlines() if "Requests/sec" in line)
    failed = next((int(line.split()[-1]) for line in out.splitlines() if "Non-2xx" in line), 0)
    return rate, failed


async def written_columns(url: str) -> list[str]:
    """The incidents' columns but the generated ones (extent_box: the service's index, not
    an incident's property): what the peers export, as the service does not."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = 'incidents' AND is_generated = 'NEVER' ORDER BY ordinal_position"
        )  # fmt: skip
        return [r[0] for r in rows]
    finally:
        await conn.close()


def ogr2ogr_export(url: str, out: Path, columns: list[str]) -> tuple[float, float] | None:
    """ogr2ogr's wall time and its own peak RSS (VmHWM, read until it exits)."""
    if not shutil.which("ogr2ogr"):
        return None
    fields = ",".join(c for c in columns if c != "geom")  # the geometry comes by itself
    started = time.perf_counter()
    proc = subprocess.Popen(
        ["ogr2ogr", "-f", "GeoJSON", "-select", fields, str(out), f"PG:{url}", "incidents"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    peak_kb = 0
    while proc.poll() is None:
        try:
            peak_kb = max(peak_kb, rss_kb(proc.pid).get("VmHWM", 0))
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.05)
    proc.wait()
    return time.perf_counter() - started, peak_kb / 1024


async def copy_floor(url: str, columns: list[str]) -> float:
    conn = await asyncpg.connect(url, server_settings={"jit": "off"})
    try:

        async def sink(chunk: bytes) -> None:  # the rows are read and dropped
            return None

        chosen = ", ".join(columns)
        started = time.perf_counter()
        await conn.copy_from_query(
            f"SELECT ST_AsGeoJSON(t.*) FROM (SELECT {chosen} FROM incidents) t", output=sink
        )
        return time.perf_counter() - started
    finally:
        await conn.close()


GROWTH_SIZES = (100_000, 10_000)


async def bare_near(http: Http, bare: str, lon: float, lat: float) -> tuple[float, int]:
    """The same 500 m page from the bare ASGI server (bench/bare_server.py): (seconds, how
    many)."""
    started = time.perf_counter()
    r = await http.get(f"{bare}/near", params={"lon": lon, "lat": lat})
    seconds = time.perf_counter() - started
    assert r.status_code == 200, r.text
    return seconds, int(r.json()["numberReturned"])


async def near_marker(
    http: Http, base: str, auth: dict[str, str], lon: float, lat: float
) -> tuple[float, int]:
    """The incidents within 500 m of a point through OGC items: (seconds, how many)."""
    started = time.perf_counter()
    r = await http.get(
        f"{base}/ogc/collections/incidents/items",
        params={"filter": near_filter(lon, lat), "limit": NEAR_LIMIT}, headers=auth,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    assert r.status_code == 200, r.text
    return seconds, int(r.json()["numberReturned"])


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 incidents, short rounds")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--no-tipg", action="store_true")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="tipg's uvicorn worker processes (default: the cores)",
    )
    parser.add_argument(
        "--bordermark-workers",
        type=int,
        default=1,
        help="bordermark's worker processes (default 1, the service's own default: the "
        "database needs the other core; its submission coalescer gathers larger groups)",
    )
    parser.add_argument(
        "--growth-only", action="store_true", help="only the 500 m query at 1M, 100k and 10k"
    )
    args = parser.parse_args()
    args.rows = args.rows or (20_000 if args.quick else 1_000_000)
    args.seconds = args.seconds or (4.0 if args.quick else 15.0)
    args.rounds = args.rounds or (3 if args.quick else 5)

    ensure_postgis_installed()
    tipg_python = None if args.no_tipg else ensure_tipg()
    root = Path(tempfile.mkdtemp(prefix="bordermark-bench-"))
    root.chmod(0o755)
    cluster = EmbeddedCluster(root=root / "pg", port=free_port(), bin_dir=find_bin_dir())
    cluster.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        url = cluster.url("bench")
        sa_url = url.replace("postgresql://", "postgresql+asyncpg://")
        prep = asyncio.run(prepare(sa_url, args.rows))
        env = {
            **os.environ, "DATABASE_URL": url, "BORDERMARK_ENV": "test",
            "BORDERMARK_WEBHOOK_WORKER": "false", "BORDERMARK_RATE_LIMIT_PER_S": "0",
            "BORDERMARK_DATA_DIR": str(root / "data"),
            "BORDERMARK_DB_STATEMENT_TIMEOUT_MS": "3600000",
        }  # fmt: skip
        analyst, admin = token(env, "analyst"), token(env, "admin")
        port = free_port()
        serve = [sys.executable, "-m", "app.cli", "serve", "--port", str(port),
                 "--workers", str(args.bordermark_workers)]  # fmt: skip
        procs.append(start_process(serve, env, f"http://127.0.0.1:{port}/healthz"))
        base = f"http://127.0.0.1:{port}"
        if args.growth_only:
            total = int(asyncio.run(_count(url)))
            ways = asyncio.run(near_growth(url, base, analyst, args.rounds, total))
            write_results(args, prep, growth_rows(ways))
            return
        tipg = tipg_fair = None
        if tipg_python:
            tenv = {**os.environ, "DATABASE_URL": url, "TIPG_DB_SCHEMAS": '["public"]',
                    "TIPG_MAX_FEATURES_PER_QUERY": "10000"}  # fmt: skip

            def start_tipg(tipg_env: dict[str, str], python: Path = tipg_python) -> str:
                tport = free_port()
                procs.append(start_process(
                    [str(python), "-m", "uvicorn", "tipg.main:app", "--port", str(tport),
                     "--workers", str(args.workers), "--log-level", "warning"],
                    tipg_env, f"http://127.0.0.1:{tport}/healthz"))  # fmt: skip
                return f"http://127.0.0.1:{tport}"

            tipg = start_tipg(tenv)
            # Fair settings: every feature in a tile (tipg stops at 10,000 by default, so
            # a dense z8 tile holds a thirtieth of the data), asked for without compression.
            tipg_fair = start_tipg({**tenv, "TIPG_MAX_FEATURES_PER_TILE": "100000000"})
        # The least any server on this stack could do for the 500 m request (a reference).
        bport = free_port()
        procs.append(start_process(
            [sys.executable, "-m", "uvicorn", "bare_server:app", "--app-dir", "bench",
             "--port", str(bport), "--log-level", "warning"],
            env, f"http://127.0.0.1:{bport}/healthz"))  # fmt: skip
        bare = f"http://127.0.0.1:{bport}"
        rows = asyncio.run(run_scenarios(args, url, base, tipg, tipg_fair, bare, analyst, admin))
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
        procs.clear()

        summary = asyncio.run(summary_rounds(sa_url, args.rounds))
        p50 = statistics.median(summary) * 1000
        rows.append(Row("per-district summary, one year", "p50 ms", p50, None, "", None,
                        "< 300 ms", p50 < 300, f"min {min(summary) * 1000:.0f}, max {max(summary) * 1000:.0f} ms"))  # fmt: skip
        export = export_run(sa_url, root / "data")
        total = int(asyncio.run(_count(url)))
        ours_rate = total / export["wall_s"]
        columns = asyncio.run(written_columns(url))
        ogr = ogr2ogr_export(url, root / "ogr.geojson", columns)
        copy_s = asyncio.run(copy_floor(url, columns))
        peak_mb = export["peak_rss_kb"] / 1024
        if ogr:
            rows.append(Row(f"export {total:,} incidents as GeoJSON", "rows/s", ours_rate, total / ogr[0],
                            "ogr2ogr", ours_rate / (total / ogr[0]), ">= 2 x ogr2ogr",
                            ours_rate >= 2 * total / ogr[0], f"ogr2ogr {ogr[0]:.1f} s, {ogr[1]:.0f} MB RSS"))  # fmt: skip
        rows.append(Row(f"export {total:,} incidents as GeoJSON", "wall s", export["wall_s"], copy_s,
                        "COPY ST_AsGeoJSON floor", export["wall_s"] / copy_s, "<= 3 x COPY",
                        export["wall_s"] <= 3 * copy_s, ""))  # fmt: skip
        rows.append(Row("export: the service's peak RSS", "MB", peak_mb, None, "", None, "< 150 MB",
                        peak_mb < 150, f"RSS before the export {export['rss_before_kb'] / 1024:.0f} MB"))  # fmt: skip
        # Last: it thins the incidents to 100,000 and 10,000 (bench/growth_states.py).
        procs.append(start_process(serve, env, f"http://127.0.0.1:{port}/healthz"))
        rows += growth_rows(asyncio.run(near_growth(url, base, analyst, args.rounds, total)))
    finally:
        for proc in procs:
            proc.kill()
        cluster.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)
    write_results(args, prep, rows)


async def _count(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM incidents"))
    finally:
        await conn.close()


def write_results(args: argparse.Namespace, prep: dict[str, float], rows: list[Row]) -> None:
    today = date.today().isoformat()
    flags = " ".join(
        f for f, on in (("--quick", args.quick), ("--growth-only", args.growth_only)) if on
    )
    command = "make bench" + (f" ARGS='{flags}'" if flags else "")
    fmt = lambda v: "n/a" if v is None else (f"{v:,.1f}" if v < 100 else f"{v:,.0f}")  # noqa: E731
    lines = [
        f"# Benchmarks, {today}",
        "",
        f"Command: `{command}` (`.venv/bin/python bench/run.py {'--quick ' if args.quick else ''}"
        f"{'--growth-only ' if args.growth_only else ''}"
        f"--rows {args.rows} --seconds {args.seconds:g} --rounds {args.rounds}`).",
        f"Machine: {os.cpu_count()} cores, PostgreSQL 15 + PostGIS and the services on the same "
        f"host, loopback; bordermark {args.bordermark_workers} worker process(es), tipg "
        f"{args.workers}. {args.rows:,} synthetic incidents generated in SQL in "
        f"{prep['generate_s']:.0f} s, with {prep.get('works', 0):,} clearing works in "
        f"{prep['works_s']:.0f} s (bench/dataset.py).",
        "",
        "| scenario | measure | bordermark | compared with | value | ratio | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        met = "n/a" if r.met is None else ("met" if r.met else "**not met**")
        lines.append(
            f"| {r.scenario} | {r.measure} | {fmt(r.bordermark)} | {r.reference_name or '-'} | "
            f"{fmt(r.reference)} | {fmt(r.ratio) if r.ratio is not None else '-'} | {r.target} | {met} |"
        )
    lines += ["", "Notes per row:", ""]
    lines += [f"- {r.scenario} ({r.measure}): {r.note}" for r in rows if r.note]
    out = ROOT / "bench" / "results"
    suffix = ("-quick" if args.quick else "") + ("-growth" if args.growth_only else "")
    (out / f"{today}{suffix}.md").write_text("\n".join(lines) + "\n")
    (out / f"{today}{suffix}.json").write_text(
        json.dumps(
            {"args": vars(args), "prepare": prep, "rows": [asdict(r) for r in rows]}, indent=2
        )
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
