"""Vector tiles decoded with mapbox-vector-tile: the right features, filters, empty tiles,
revalidation, scope."""

from __future__ import annotations

import math

import mapbox_vector_tile
import pytest

from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature, new_tag, off_line, point


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


async def _tile(
    client,
    tokens: Tokens,
    layer: str,
    lon: float,
    lat: float,
    z: int,
    who: str = "analyst",
    **params: object,
):  # type: ignore[no-untyped-def]
    x, y = tile_of(lon, lat, z)
    return await client.get(
        f"/tiles/{layer}/{z}/{x}/{y}.mvt", params=params, headers=bearer(tokens.of(who))
    )


async def test_markers_tile_holds_the_markers_there(client, tokens: Tokens) -> None:
    r = await _tile(client, tokens, "markers", 106.6973, 21.9816, 14)
    assert (
        r.status_code == 200 and r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    )
    decoded = mapbox_vector_tile.decode(r.content)
    codes = {f["properties"]["code"] for f in decoded["markers"]["features"]}
    assert {"1088/2", "1089"} <= codes
    again = await _tile(client, tokens, "markers", 106.6973, 21.9816, 14)
    assert again.headers["etag"] == r.headers["etag"]
    x, y = tile_of(106.6973, 21.9816, 14)
    cached = await client.get(
        f"/tiles/markers/14/{x}/{y}.mvt",
        headers={**bearer(tokens.analyst), "If-None-Match": r.headers["etag"]},
    )
    assert cached.status_code == 304


@pytest.mark.parametrize("layer", ["segments", "borders", "districts", "clearing-works"])
async def test_line_and_area_layers_at_low_zoom(client, tokens: Tokens, layer: str) -> None:
    r = await _tile(client, tokens, layer, 106.7, 22.0, 7)
    assert r.status_code == 200, r.text
    features = mapbox_vector_tile.decode(r.content)[layer]["features"]
    assert features
    if layer == "segments":
        assert {"ref", "days_since_cleared", "last_cleared_on"} <= set().union(
            *(f["properties"] for f in features)
        )


async def test_empty_tile_is_204(client, tokens: Tokens) -> None:
    r = await _tile(client, tokens, "markers", -40.0, -30.0, 10)  # the South Atlantic
    assert r.status_code == 204 and not r.content


async def test_incident_filters_and_scope(client, tokens: Tokens) -> None:
    tag = new_tag()
    lon, lat = await off_line(client, tokens.admin, "1089+300", 20, "VN")
    created = await client.post(
        "/api/v1/incidents",
        json=feature(geometry=point(lon, lat), tags=[tag], category="fire"),
        headers=bearer(tokens.admin),
    )
    incident_id = created.json()["id"]

    async def ids(**params: object) -> set[str]:
        r = await _tile(client, tokens, "incidents", lon, lat, 15, **params)
        if r.status_code == 204:
            return set()
        return {
            f["properties"]["id"]
            for f in mapbox_vector_tile.decode(r.content)["incidents"]["features"]
        }

    assert incident_id in await ids()
    assert incident_id in await ids(category="fire", status="reported")
    assert incident_id not in await ids(category="smuggling")
    assert incident_id not in await ids(status="resolved")
    assert incident_id in await ids(since="2024-05-01", until="2024-05-31")
    assert incident_id not in await ids(since="2025-01-01")
    other = await _tile(client, tokens, "incidents", lon, lat, 15, who="officer_other")
    hidden = (
        set()
        if other.status_code == 204
        else {
            f["properties"]["id"]
            for f in mapbox_vector_tile.decode(other.content)["incidents"]["features"]
        }
    )
    assert incident_id not in hidden


async def test_tilejson_and_bad_tiles(client, tokens: Tokens) -> None:
    tj = (await client.get("/tiles/incidents.json", headers=bearer(tokens.analyst))).json()
    assert tj["tilejson"] == "3.0.0" and tj["tiles"][0].endswith("/tiles/incidents/{z}/{x}/{y}.mvt")
    assert tj["vector_layers"][0]["id"] == "incidents"
    assert (
        await client.get("/tiles/nope/1/0/0.mvt", headers=bearer(tokens.analyst))
    ).status_code == 404
    assert (
        await client.get("/tiles/markers/2/4/0.mvt", headers=bearer(tokens.analyst))
    ).status_code == 422
    assert (
        await client.get("/tiles/markers/23/0/0.mvt", headers=bearer(tokens.analyst))
    ).status_code == 422
    assert (await client.get("/tiles/markers/1/0/0.mvt")).status_code == 401


async def test_a_short_fence_stays_visible_at_low_zoom(client, tokens: Tokens) -> None:
    """Issue 26: a 30 m fence is under one tile unit at z8 (about 38 m) and vanished; it is
    drawn as a point there, and as its line up close."""
    lon, lat = await off_line(client, tokens.admin, "1089+300", 20, "VN")
    fence = {"type": "LineString", "coordinates": [[lon, lat], [lon + 0.0003, lat]]}  # ~31 m
    created = await client.post(
        "/api/v1/incidents", json=feature(geometry=fence), headers=bearer(tokens.admin)
    )
    assert created.status_code == 201, created.text
    ident = created.json()["id"]

    async def drawn(z: int) -> str | None:
        r = await _tile(client, tokens, "incidents", lon, lat, z)
        if r.status_code == 204:
            return None
        found = [
            f["geometry"]["type"]
            for f in mapbox_vector_tile.decode(r.content)["incidents"]["features"]
            if f["properties"]["id"] == ident
        ]
        return found[0] if found else None

    assert await drawn(8) == "Point"
    assert await drawn(6) == "Point"
    assert await drawn(16) == "LineString"
