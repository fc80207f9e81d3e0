"""The tile cache against a real server and real commits (the scratch database): repeated
tiles come from memory, a committed write to a table drops the tiles it feeds, and one
caller's cached view never reaches a caller with a narrower scope."""

from __future__ import annotations

import asyncio
import math
import uuid
from typing import Any

import httpx
import mapbox_vector_tile
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import Tokens, app_on, bearer, serving
from tests.incidents.helpers import feature


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def ids_in(body: bytes, layer: str) -> set[Any]:
    decoded = mapbox_vector_tile.decode(body) if body else {}
    return {f["properties"]["id"] for f in decoded.get(layer, {}).get("features", [])}


async def _until(check: Any, what: str) -> None:
    for _ in range(100):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_cached_tiles_are_dropped_by_committed_writes(
    scratch_url: str, tokens: Tokens, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    app = app_on(scratch_url, tmp_path)
    async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:
        cache = app.state.tile_cache

        async def listening() -> bool:
            return bool(cache.listening)

        await _until(listening, "the cache to listen")
        analyst = bearer(tokens.analyst)
        probe = await http.get(
            "/api/v1/chainage", params={"border": "VN-CN", "ref": "1089"}, headers=analyst
        )
        lon, lat = probe.json()["geometry"]["coordinates"]
        x, y = tile_of(lon, lat, 12)
        url = f"/tiles/incidents/12/{x}/{y}.mvt"

        first = await http.get(url, headers=analyst)
        second = await http.get(url, headers=analyst)
        assert first.headers["x-tile-cache"] == "miss" and second.headers["x-tile-cache"] == "hit"
        assert first.content == second.content and first.headers.get("etag") == second.headers.get(
            "etag"
        )
        assert (
            await http.get(
                url, headers={**analyst, "If-None-Match": second.headers.get("etag", "")}
            )
        ).status_code == 304

        # A new incident at marker 1089, committed by the API: the next tile shows it.
        new_id = uuid.uuid4()
        created = await http.post(
            "/api/v1/incidents",
            json=feature(incident_id=new_id, location="VN-CN:1089", title="Rào mới tại mốc 1089"),
            headers=bearer(tokens.officer),
        )
        assert created.status_code == 201, created.text

        async def redrawn() -> bool:
            r = await http.get(url, headers=analyst)
            return r.headers["x-tile-cache"] == "miss" and str(new_id) in ids_in(
                r.content, "incidents"
            )

        await _until(redrawn, "the tile to show the new incident")

        # A write from outside the service (plain SQL) drops the markers' tiles too.
        murl = f"/tiles/markers/12/{x}/{y}.mvt"
        await http.get(murl, headers=analyst)
        assert (await http.get(murl, headers=analyst)).headers["x-tile-cache"] == "hit"
        engine = create_async_engine(scratch_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text("UPDATE markers SET condition = 'damaged' WHERE code = '1089'")
                )
        finally:
            await engine.dispose()

        async def markers_dropped() -> bool:
            r = await http.get(murl, headers=analyst)
            if r.headers["x-tile-cache"] != "miss":
                return False
            decoded = mapbox_vector_tile.decode(r.content)["markers"]["features"]
            return any(
                f["properties"]["code"] == "1089" and f["properties"]["condition"] == "damaged"
                for f in decoded
            )

        await _until(markers_dropped, "the markers tile to be redrawn")

        # The analyst's cached tile holds a Lạng Sơn incident; a Cao Bằng officer asking for
        # the same tile gets their own rendering, without it.
        officer_view = await http.get(url, headers=bearer(tokens.officer_other))
        assert officer_view.headers["x-tile-cache"] == "miss"
        assert str(new_id) not in ids_in(officer_view.content, "incidents")


# What each layer draws from, read off its SQL by hand (the segments carry the age of
# their clearing, which reads the works, their completions and whether a kind clears):
# a committed write to any of these tables must drop that layer's cached tiles.
DRAWN_FROM = {
    "markers": {"markers", "borders"},
    "incidents": {"incidents", "borders"},
    "segments": {"segments", "borders", "markers", "clearing_works", "clearing_completions",
                 "clearing_work_kinds"},
    "borders": {"borders"},
    "districts": {"admin_units"},
    "clearing-works": {"clearing_works", "borders"},
    "crossings": {"crossings", "borders"},
    "survey-areas": {"survey_areas", "surveys", "borders"},
    "patrols": {"patrols", "borders"},
    "marker-inspections": {"marker_inspections", "markers", "borders"},
    "marker-repairs": {"marker_repairs", "markers", "borders"},
    "disputed-areas": {"disputed_areas", "borders"},
}  # fmt: skip


async def test_every_layer_is_dropped_by_a_write_to_what_it_draws(
    scratch_url: str, tokens: Tokens, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from app.layers import TILE_LAYERS as LAYERS

    assert set(DRAWN_FROM) == set(LAYERS), "a new layer: say what it draws from"
    app = app_on(scratch_url, tmp_path)
    engine = create_async_engine(scratch_url)
    analyst = bearer(tokens.analyst)
    try:
        async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=60) as http:

            async def listening() -> bool:
                return bool(app.state.tile_cache.listening)

            await _until(listening, "the cache to listen")
            for table in sorted(set().union(*DRAWN_FROM.values())):
                urls = {name: f"/tiles/{name}/6/51/28.mvt" for name in LAYERS}
                for url in urls.values():
                    await http.get(url, headers=analyst)
                    assert (await http.get(url, headers=analyst)).headers["x-tile-cache"] == "hit"
                async with engine.begin() as conn:  # a write that changes no row still counts
                    await conn.execute(text(f"UPDATE {table} SET {_KEYS[table]} = {_KEYS[table]} "
                                            "WHERE false"))  # fmt: skip
                for name, url in urls.items():
                    fed = name in {n for n, tables in DRAWN_FROM.items() if table in tables}

                    async def dropped(url: str = url) -> bool:
                        r = await http.get(url, headers=analyst)
                        return r.headers["x-tile-cache"] == "miss"

                    if fed:
                        await _until(dropped, f"a write to {table} to drop {name}")
    finally:
        await engine.dispose()


_KEYS = {
    "markers": "id", "borders": "id", "incidents": "id", "segments": "id",
    "admin_units": "id", "clearing_works": "id", "clearing_completions": "id",
    "clearing_work_kinds": "code", "crossings": "code", "surveys": "code",
    "survey_areas": "finding", "patrols": "unit", "marker_inspections": "id",
    "marker_repairs": "id", "disputed_areas": "code",
}  # fmt: skip


def test_the_cache_keeps_to_its_byte_budget_least_recently_used_first() -> None:
    from app.tiles.cache import TileCache

    cache = TileCache(max_bytes=1000, listening=True)
    for n in range(10):
        cache.put(("t", n), bytes(100), f'"{n}"')
    assert cache.size_bytes == 1000
    assert cache.get(("t", 0)) is not None  # used again: now the most recent
    cache.put(("t", 10), bytes(100), '"10"')  # over budget: the least recent goes
    assert cache.size_bytes == 1000
    assert cache.get(("t", 1)) is None and cache.get(("t", 0)) is not None
    cache.put(("big",), bytes(126), '"big"')  # over an eighth of the budget: not kept
    assert cache.get(("big",)) is None and cache.size_bytes == 1000
    cache.set_listening(False)  # notices down: nothing served, nothing kept
    assert cache.get(("t", 0)) is None and cache.size_bytes == 0
    cache.put(("t", 0), bytes(10), '"0"')
    assert cache.size_bytes == 0


async def test_a_write_missed_while_notices_were_down_is_not_served_stale(
    scratch_url: str, tokens: Tokens, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """The notice connection dies (terminated by the server), a marker changes before it
    is back (its notice lost): once listening again, the tile shows the change."""
    app = app_on(scratch_url, tmp_path)
    engine = create_async_engine(scratch_url)
    analyst = bearer(tokens.analyst)
    try:
        async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=60) as http:
            cache = app.state.tile_cache
            states: list[bool] = []
            original = cache.set_listening

            def recorded(on: bool) -> None:
                states.append(on)
                original(on)

            cache.set_listening = recorded

            async def listening() -> bool:
                return bool(cache.listening)

            await _until(listening, "the cache to listen")
            probe = await http.get(
                "/api/v1/chainage", params={"border": "VN-CN", "ref": "1090"}, headers=analyst
            )
            x, y = tile_of(*probe.json()["geometry"]["coordinates"], 12)
            url = f"/tiles/markers/12/{x}/{y}.mvt"
            await http.get(url, headers=analyst)
            assert (await http.get(url, headers=analyst)).headers["x-tile-cache"] == "hit"
            async with engine.begin() as conn:
                # The listener: this database's one connection without an application name,
                # other than this one.
                ended = await conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND application_name = '' "
                        "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                    )
                )
                assert ended.all() != []
                await conn.execute(
                    text("UPDATE markers SET condition = 'destroyed' WHERE code = '1090'")
                )

            async def back() -> bool:
                return False in states and states[-1] is True and bool(cache.listening)

            for _ in range(3):  # the health check notices within 5 s, then it reconnects
                try:
                    await _until(back, "the notices to go down and come back")
                    break
                except AssertionError:
                    continue
            assert False in states and cache.listening
            r = await http.get(url, headers=analyst)
            codes = {
                f["properties"]["code"]: f["properties"]["condition"]
                for f in mapbox_vector_tile.decode(r.content)["markers"]["features"]
            }
            assert codes["1090"] == "destroyed"
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE markers SET condition = 'intact' WHERE code = '1090'"))
        await engine.dispose()
