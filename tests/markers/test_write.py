from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import Tokens, bearer
from tests.incidents.helpers import projected


async def _coords(client, tokens: Tokens, code: str) -> list[float]:
    r = await client.get(f"/api/v1/borders/VN-CN/markers/{code}", headers=bearer(tokens.admin))
    return list(r.json()["geometry"]["coordinates"])


def _feature(code: str, coords: list[float], **props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": coords},
        "properties": {"border": "VN-CN", "code": code, **props},
    }


async def test_create_places_the_marker_and_rebuilds_segments(client, db, tokens: Tokens) -> None:
    (x1, y1), (x2, y2) = (
        await _coords(client, tokens, "1089"),
        await _coords(client, tokens, "1090"),
    )
    body = _feature(
        "M1089/1", [(x1 + x2) / 2, (y1 + y2) / 2], condition="damaged", notes="Mốc phụ mới"
    )
    r = await client.post("/api/v1/markers", json=body, headers=bearer(tokens.officer))
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "/api/v1/borders/VN-CN/markers/1089/1"
    props = r.json()["properties"]
    assert props["code"] == "1089/1" and props["kind"] == "auxiliary"
    assert props["province"] == "lang-son" and props["notes"] == "Mốc phụ mới"
    c1089 = (
        await client.get("/api/v1/borders/VN-CN/markers/1089", headers=bearer(tokens.admin))
    ).json()
    c1090 = (
        await client.get("/api/v1/borders/VN-CN/markers/1090", headers=bearer(tokens.admin))
    ).json()
    assert (
        c1089["properties"]["chainage_m"] < props["chainage_m"] < c1090["properties"]["chainage_m"]
    )
    segments = await client.get(
        "/api/v1/segments",
        params={"border": "VN-CN", "from": "1089", "to": "1090"},
        headers=bearer(tokens.admin),
    )
    assert [f["properties"]["ref"] for f in segments.json()["features"]] == [
        "1089-1089/1",
        "1089/1-1090",
    ]
    audit = (
        await db.execute(
            text("SELECT action, entity_id, actor_role FROM audit_log ORDER BY id DESC LIMIT 1")
        )
    ).one()
    assert tuple(audit) == ("marker.create", "VN-CN:1089/1", "officer")


async def test_duplicate_code_is_409(client, tokens: Tokens) -> None:
    body = _feature("1089", await _coords(client, tokens, "1089"))
    r = await client.post("/api/v1/markers", json=body, headers=bearer(tokens.admin))
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"


async def test_create_in_vn2000_tm3(client, tokens: Tokens) -> None:
    (x1, y1), (x2, y2) = (
        await _coords(client, tokens, "1089"),
        await _coords(client, tokens, "1090"),
    )
    lon, lat = (x1 + x2) / 2, (y1 + y2) / 2
    x, y = projected(lon, lat, 9215)
    r = await client.post(
        "/api/v1/markers",
        params={"crs": "EPSG:9215"},
        json=_feature("1089/1", [x, y]),
        headers=bearer(tokens.admin),
    )
    assert r.status_code == 201, r.text
    assert r.json()["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)


@pytest.mark.parametrize(
    ("body", "params", "field"),
    [
        (_feature("1089/1", [106.0, 10.0]), {}, "geometry"),  # far from the VN-CN line
        (_feature("1089/1", [107.0, 95.0]), {}, "geometry.coordinates"),
        (_feature("1089/1", [441000.0, 2434000.0]), {"crs": "EPSG:3406"}, "geometry.coordinates"),
        (_feature("1089/1", [106.7, 22.0]), {"crs": "EPSG:3857"}, "crs"),
        (
            {
                **_feature("1089/1", [106.7, 22.0]),
                "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
            },
            {},
            "geometry.type",
        ),
        (_feature("10x", [106.7, 22.0]), {}, "properties.code"),
        (_feature("1089/1", [106.7, 22.0], condition="gone"), {}, "properties.condition"),
        (_feature("1089/1", [106.7, 22.0], elevation_m=1e9), {}, "properties.elevation_m"),
        (_feature("1089/1", [106.7, 22.0], colour="red"), {}, "properties.colour"),
        (_feature("1089(2)", [106.7, 22.0], kind="main"), {}, "kind"),
    ],
)
async def test_bad_marker_input_is_422_and_stores_nothing(
    client, db, tokens: Tokens, body: dict[str, object], params: dict[str, str], field: str
) -> None:
    before = (await db.execute(text("SELECT count(*) FROM markers"))).scalar_one()
    r = await client.post("/api/v1/markers", json=body, params=params, headers=bearer(tokens.admin))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert (await db.execute(text("SELECT count(*) FROM markers"))).scalar_one() == before


async def test_nan_coordinates_are_refused(client, tokens: Tokens) -> None:
    raw = '{"type":"Feature","geometry":{"type":"Point","coordinates":[NaN, 22.0]},"properties":{"border":"VN-CN","code":"1089/1"}}'
    r = await client.post(
        "/api/v1/markers",
        content=raw,
        headers={**bearer(tokens.admin), "content-type": "application/json"},
    )
    assert r.status_code == 422


async def test_patch_with_etag(client, db, tokens: Tokens) -> None:
    path = "/api/v1/borders/VN-CN/markers/1089"
    etag = (await client.get(path, headers=bearer(tokens.officer))).headers["etag"]
    r = await client.patch(
        path,
        json={
            "condition": "damaged",
            "last_inspected_on": "2026-11-20",
            "notes": "Bị nứt chân mốc",
        },
        headers={**bearer(tokens.officer), "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert (props["condition"], props["last_inspected_on"], props["notes"]) == (
        "damaged",
        "2026-11-20",
        "Bị nứt chân mốc",
    )
    assert r.headers["etag"] != etag
    stale = await client.patch(
        path, json={"condition": "intact"}, headers={**bearer(tokens.officer), "If-Match": etag}
    )
    assert stale.status_code == 412
    assert (await client.get(path, headers=bearer(tokens.officer))).json()["properties"][
        "condition"
    ] == "damaged"
    detail = (
        await db.execute(
            text(
                "SELECT detail FROM audit_log WHERE action = 'marker.update' ORDER BY id DESC LIMIT 1"
            )
        )
    ).scalar_one()
    assert detail["before"]["condition"] == "intact" and detail["after"]["condition"] == "damaged"


async def test_patch_move_updates_chainage(client, tokens: Tokens) -> None:
    path = "/api/v1/borders/VN-CN/markers/1089"
    before = (await client.get(path, headers=bearer(tokens.admin))).json()
    target = await _coords(client, tokens, "1090")
    lon, lat = target[0] - 0.0005, target[1] - 0.0005
    r = await client.patch(
        path,
        json={"geometry": {"type": "Point", "coordinates": [lon, lat]}},
        headers=bearer(tokens.admin),
    )
    assert r.status_code == 200, r.text
    after = r.json()["properties"]
    assert after["chainage_m"] > before["properties"]["chainage_m"]
    assert after["version"] == before["properties"]["version"] + 1


async def test_condition_cannot_be_cleared(client, tokens: Tokens) -> None:
    r = await client.patch(
        "/api/v1/borders/VN-CN/markers/1089", json={"condition": None}, headers=bearer(tokens.admin)
    )
    assert r.status_code == 422


async def test_audit_log_is_append_only_in_the_database(db) -> None:
    from sqlalchemy.exc import DBAPIError

    await db.execute(
        text(
            "INSERT INTO audit_log (actor_name, actor_role, action, entity_type) VALUES ('t', 'admin', 'x', 'y')"
        )
    )
    for statement in [
        "UPDATE audit_log SET action = 'z'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ]:
        nested = await db.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            await db.execute(text(statement))
        await nested.rollback()


async def test_crs_named_in_the_geojson_body(client, tokens: Tokens) -> None:
    (x1, y1), (x2, y2) = (
        await _coords(client, tokens, "1089"),
        await _coords(client, tokens, "1090"),
    )
    lon, lat = (x1 + x2) / 2, (y1 + y2) / 2
    x, y = projected(lon, lat, 3405)
    body = {
        **_feature("1089/1", [x, y]),
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3405"}},
    }
    clash = await client.post(
        "/api/v1/markers", json=body, params={"crs": "EPSG:9215"}, headers=bearer(tokens.admin)
    )
    assert clash.status_code == 422 and clash.json()["errors"][0]["field"] == "crs"
    r = await client.post("/api/v1/markers", json=body, headers=bearer(tokens.admin))
    assert r.status_code == 201, r.text
    assert r.json()["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)


async def test_segment_sightline_override_survives_a_rebuild(client, tokens: Tokens) -> None:
    listed = await client.get(
        "/api/v1/segments",
        params={"border": "VN-CN", "from": "1089", "to": "1090"},
        headers=bearer(tokens.admin),
    )
    segment = listed.json()["features"][0]
    refused = await client.patch(
        f"/api/v1/segments/{segment['id']}",
        json={"sightline_width_m": 20},
        headers=bearer(tokens.officer),
    )
    assert refused.status_code == 403
    r = await client.patch(
        f"/api/v1/segments/{segment['id']}",
        json={"sightline_width_m": 20},
        headers=bearer(tokens.admin),
    )
    assert r.status_code == 200, r.text
    assert (
        r.json()["properties"] | {"sightline_width_m": 20, "sightline_overridden": True}
        == r.json()["properties"]
    )
    # Moving marker 1090 rebuilds the border's segments; the override stays on 1089-1090.
    lon, lat = await _coords(client, tokens, "1090")
    moved = await client.patch(
        "/api/v1/borders/VN-CN/markers/1090",
        json={"geometry": {"type": "Point", "coordinates": [lon + 0.0003, lat]}},
        headers=bearer(tokens.admin),
    )
    assert moved.status_code == 200
    again = await client.get(
        "/api/v1/segments",
        params={"border": "VN-CN", "from": "1089", "to": "1090"},
        headers=bearer(tokens.admin),
    )
    assert again.json()["features"][0]["properties"]["sightline_width_m"] == 20
    missing = await client.patch(
        "/api/v1/segments/999999", json={"sightline_width_m": 5}, headers=bearer(tokens.admin)
    )
    assert missing.status_code == 404
