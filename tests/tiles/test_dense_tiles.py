"""Dense incident tiles: past `tile_max_features` incidents, points are grouped into cells
drawn as their most severe, most recent incident with a count; nothing is dropped."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest

from app.config import Environment, Settings
from tests.conftest import Tokens, bearer
from tests.incidents.helpers import GEOD, feature, off_line, point
from tests.tiles.test_tiles import tile_of

Z = 14  # a cell (64 of 4,096 tile units) is about 38 m across here


@pytest.fixture
def settings(database: tuple[str, Tokens], tmp_path: Path) -> Settings:
    # Overrides conftest's: a cap small enough for a handful of incidents to pass it.
    return Settings(
        env=Environment.test, DATABASE_URL=database[0], data_dir=tmp_path, tile_max_features=3
    )


def _tile_box(z: int, x: int, y: int) -> str:
    def lon(tx: int) -> float:
        return tx / 2**z * 360 - 180

    def lat(ty: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ty / 2**z))))

    return f"{lon(x)},{lat(y + 1)},{lon(x + 1)},{lat(y)}"


async def _post(client: Any, token: str, body: dict[str, Any]) -> str:
    r = await client.post("/api/v1/incidents", json=body, headers=bearer(token))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_a_dense_tile_groups_points_and_keeps_every_count(client, tokens: Tokens) -> None:
    lon, lat = await off_line(client, tokens.admin, "1089+730", 40, "VN")
    # Five points within 4 m of each other (one cell), the critical one not the latest.
    severities = ["low", "medium", "critical", "high", "medium"]
    cluster = []
    for n, severity in enumerate(severities):
        x, y, _ = GEOD.fwd(lon, lat, 90, n)
        cluster.append(
            await _post(
                client,
                tokens.admin,
                feature(
                    geometry=point(x, y),
                    severity=severity,
                    occurred_at=f"2024-05-1{n}T09:30:00+07:00",
                ),
            )
        )
    critical = cluster[severities.index("critical")]
    # A line in the same cell is never grouped.
    far_x, far_y, _ = GEOD.fwd(lon, lat, 0, 15)
    line = await _post(
        client,
        tokens.admin,
        feature(geometry={"type": "LineString", "coordinates": [[lon, lat], [far_x, far_y]]}),
    )

    x, y = tile_of(lon, lat, Z)
    r = await client.get(f"/tiles/incidents/{Z}/{x}/{y}.mvt", headers=bearer(tokens.analyst))
    assert r.status_code == 200, r.text
    features = mapbox_vector_tile.decode(r.content)["incidents"]["features"]
    by_id = {f["properties"]["id"]: f for f in features}

    assert critical in by_id and by_id[critical]["properties"]["severity"] == "critical"
    assert by_id[critical]["properties"]["count"] >= len(cluster)
    assert not set(cluster) - {critical} & set(by_id)  # the others are counted, not drawn
    assert by_id[line]["properties"]["count"] == 1
    assert by_id[line]["geometry"]["type"] == "LineString"

    # Nothing is lost: the counts add up to every incident in the tile.
    items = await client.get(
        "/ogc/collections/incidents/items",
        params={"bbox": _tile_box(Z, x, y), "limit": 10_000},
        headers=bearer(tokens.analyst),
    )
    assert items.status_code == 200, items.text
    in_tile = items.json()["numberReturned"]
    assert in_tile > 3 and len(features) < in_tile
    assert sum(f["properties"]["count"] for f in features) == in_tile


async def test_below_the_cap_every_incident_is_its_own_feature(client, tokens: Tokens) -> None:
    lon, lat = await off_line(client, tokens.admin, "1089+730", 40, "VN")
    lone = await _post(client, tokens.admin, feature(geometry=point(lon, lat), severity="high"))
    x, y = tile_of(lon, lat, 18)  # a tile a few hundred metres across: only this incident
    r = await client.get(f"/tiles/incidents/18/{x}/{y}.mvt", headers=bearer(tokens.analyst))
    assert r.status_code == 200, r.text
    features = mapbox_vector_tile.decode(r.content)["incidents"]["features"]
    assert [(f["properties"]["id"], f["properties"]["count"]) for f in features] == [(lone, 1)]
