"""Inspections, repairs and disputed areas as map layers: the OGC API, the vector tiles and
the exports give the reports' facts, and disputed areas stay in their province."""

from __future__ import annotations

import csv
import io
from typing import Any

import mapbox_vector_tile

from tests.conftest import Tokens, bearer


async def _items(client, token: str, collection: str, **params: Any) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    r = await client.get(
        f"/ogc/collections/{collection}/items", params=params, headers=bearer(token)
    )
    assert r.status_code == 200, r.text
    features: list[dict[str, Any]] = r.json()["features"]
    return features


async def _tile_properties(client, token: str, layer: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The properties of every feature in zoom 0's one tile of `layer` (an empty tile is
    204, no content)."""
    r = await client.get(f"/tiles/{layer}/0/0/0.mvt", headers=bearer(token))
    assert r.status_code in (200, 204), r.text
    decoded = mapbox_vector_tile.decode(r.content)
    return [f["properties"] for f in decoded.get(layer, {}).get("features", [])]


async def test_615s_repair_and_the_landslide_risks_are_on_the_map(client, tokens: Tokens) -> None:
    """Cao Bằng 2023: huyện Nà Po (Trung Quốc) finished the light repair of 615; China
    proposed restoring 821; landslide risk at 556/1-556/2, 560-561 and 836(2)."""
    repairs = await _items(client, tokens.analyst, "marker-repairs", marker="615")
    assert [(f["properties"]["side"], f["properties"]["status"]) for f in repairs] == [
        ("other", "done")
    ]
    at_risk = await _items(client, tokens.analyst, "marker-inspections", condition="at_risk")
    assert {f["properties"]["marker"] for f in at_risk} >= {
        "556/1",
        "556/2",
        "560",
        "561",
        "836(2)",
    }
    # Each drawn at its marker: the same point the register gives.
    r = await client.get("/api/v1/borders/VN-CN/markers/615", headers=bearer(tokens.analyst))
    assert repairs[0]["geometry"]["coordinates"] == r.json()["geometry"]["coordinates"]
    tiled = await _tile_properties(client, tokens.analyst, "marker-repairs")
    assert {(p["marker"], p["status"]) for p in tiled} >= {("615", "done"), ("821", "planned")}
    inspected = await _tile_properties(client, tokens.analyst, "marker-inspections")
    assert ("836(2)", "at_risk") in {(p["marker"], p["condition"]) for p in inspected}
    r = await client.get(
        "/api/v1/exports/marker-repairs", params={"format": "csv"}, headers=bearer(tokens.analyst)
    )
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert {(row["marker"], row["kind"], row["side"]) for row in rows} >= {
        ("615", "repair", "other"),
        ("821", "restoration", "other"),
    }


async def test_disputed_areas_stay_in_their_province_on_every_reader(
    client, tokens: Tokens
) -> None:
    """Marker 1163 is Lạng Sơn's: its officer sees it through the OGC API, the tiles and the
    export; Cao Bằng's sees none of them."""
    for token, seen in ((tokens.officer, True), (tokens.officer_other, False)):
        items = await _items(client, token, "disputed-areas")
        assert ("moc-1163" in {f["properties"]["code"] for f in items}) is seen
        tiled = await _tile_properties(client, token, "disputed-areas")
        assert ("moc-1163" in {p["code"] for p in tiled}) is seen
        r = await client.get(
            "/api/v1/exports/disputed-areas", params={"format": "csv"}, headers=bearer(token)
        )
        assert r.status_code == 200, r.text
        assert ("moc-1163" in r.content.decode("utf-8-sig")) is seen
    found = (await _items(client, tokens.officer, "disputed-areas"))[0]
    assert found["properties"]["state"] == "under_talks"
    assert found["properties"]["location"] == "VN-CN:1163"
    r = await client.get(
        f"/ogc/collections/disputed-areas/items/{found['id']}", headers=bearer(tokens.officer_other)
    )
    assert r.status_code == 404
