"""Submission: at most once, replay is success, changed replay is 409, bad input stores nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature, line_point, off_line, point, projected


async def _count(db, incident_id: str | None = None) -> int:  # type: ignore[no-untyped-def]
    if incident_id is None:
        return int((await db.execute(text("SELECT count(*) FROM incidents"))).scalar_one())
    return int(
        (
            await db.execute(
                text("SELECT count(*) FROM incidents WHERE id = :i"), {"i": incident_id}
            )
        ).scalar_one()
    )


async def test_first_submission_is_201_then_replays_are_200(client, db, tokens: Tokens) -> None:
    lon, lat = await off_line(client, tokens.admin, "1089+200", 15, "VN")
    body = feature(
        geometry=point(lon, lat), title="Camera giám sát", category="surveillance_equipment"
    )
    first = await client.post("/api/v1/incidents", json=body, headers=bearer(tokens.reporter))
    assert first.status_code == 201, first.text
    assert first.headers["location"] == f"/api/v1/incidents/{body['id']}"
    assert first.headers["etag"] == '"1"'
    for _ in range(3):
        again = await client.post("/api/v1/incidents", json=body, headers=bearer(tokens.reporter))
        assert again.status_code == 200
        assert again.json()["properties"] == first.json()["properties"]
    assert await _count(db, body["id"]) == 1
    history = await client.get(
        f"/api/v1/incidents/{body['id']}/history", headers=bearer(tokens.reporter)
    )
    assert [h["action"] for h in history.json()["history"]] == ["created"]


async def test_same_content_written_differently_is_a_replay(client, tokens: Tokens) -> None:
    lon, lat = await off_line(client, tokens.admin, "1089+200", 15, "VN")
    body = feature(
        geometry=point(lon, lat), tags=["b", "a"], occurred_at="2024-05-10T09:30:00+07:00"
    )
    assert (
        await client.post("/api/v1/incidents", json=body, headers=bearer(tokens.reporter))
    ).status_code == 201
    same = {
        **body,
        "properties": {
            **body["properties"],
            "tags": ["a", "b", "a"],
            "occurred_at": "2024-05-10T02:30:00Z",
        },
    }
    r = await client.post("/api/v1/incidents", json=same, headers=bearer(tokens.reporter))
    assert r.status_code == 200


async def test_changed_replay_is_409_and_changes_nothing(client, db, tokens: Tokens) -> None:
    lon, lat = await off_line(client, tokens.admin, "1089+200", 15, "VN")
    body = feature(geometry=point(lon, lat), title="Bản gốc")
    assert (
        await client.post("/api/v1/incidents", json=body, headers=bearer(tokens.reporter))
    ).status_code == 201
    changed = {**body, "properties": {**body["properties"], "title": "Bản sửa"}}
    r = await client.post("/api/v1/incidents", json=changed, headers=bearer(tokens.reporter))
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["id"] == body["id"] and "different content" in r.json()["detail"]
    title = (
        await db.execute(text("SELECT title FROM incidents WHERE id = :i"), {"i": body["id"]})
    ).scalar_one()
    assert title == "Bản gốc"


async def test_location_forms(client, tokens: Tokens) -> None:
    marker = (
        await client.get("/api/v1/borders/VN-CN/markers/1089", headers=bearer(tokens.admin))
    ).json()
    at_marker = await client.post(
        "/api/v1/incidents",
        json=feature(location="VN-CN:1089", category="marker_damage", title="Mốc 1089 bị nứt"),
        headers=bearer(tokens.officer),
    )
    assert at_marker.status_code == 201, at_marker.text
    assert at_marker.json()["geometry"] == marker["geometry"]
    props = at_marker.json()["properties"]
    assert props["nearest_marker"] == "1089" and props["nearest_marker_distance_m"] < 0.5
    assert props["location_ref"] == "VN-CN:1089"
    assert [b["article"] for b in props["breaches"]] == ["Art. 5"]

    chain = await client.post(
        "/api/v1/incidents",
        json=feature(location="VN-CN:1089+230", title="Điểm"),
        headers=bearer(tokens.officer),
    )
    expected = await line_point(client, tokens.admin, "1089+230")
    assert chain.json()["geometry"]["coordinates"] == pytest.approx(list(expected), abs=1e-7)
    assert chain.json()["properties"]["chainage_ref"] == "1089+230"

    stretch = await client.post(
        "/api/v1/incidents",
        json=feature(location="VN-CN:1089-1090", title="Hàng rào dọc biên"),
        headers=bearer(tokens.officer),
    )
    assert stretch.status_code == 201
    assert stretch.json()["geometry"]["type"] == "LineString"
    assert stretch.json()["properties"]["side"] == "on_line"


async def test_vn2000_input(client, tokens: Tokens) -> None:
    lon, lat = await off_line(client, tokens.admin, "1089+200", 15, "VN")
    x, y = projected(lon, lat, 9215)
    r = await client.post(
        "/api/v1/incidents",
        params={"crs": "EPSG:9215"},
        json=feature(geometry=point(x, y)),
        headers=bearer(tokens.reporter),
    )
    assert r.status_code == 201, r.text
    assert r.json()["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)
    assert r.json()["properties"]["distance_to_line_m"] == pytest.approx(15, abs=0.5)


async def test_reported_by_defaults_to_the_unit(client, tokens: Tokens) -> None:
    lon, lat = await off_line(client, tokens.admin, "1089+200", 15, "VN")
    r = await client.post(
        "/api/v1/incidents", json=feature(geometry=point(lon, lat)), headers=bearer(tokens.reporter)
    )
    assert r.json()["properties"]["reported_by"] == "test reporter"
    named = feature(geometry=point(lon, lat), reported_by="Đồn Biên phòng Tân Thanh")
    r2 = await client.post("/api/v1/incidents", json=named, headers=bearer(tokens.reporter))
    assert r2.json()["properties"]["reported_by"] == "Đồn Biên phòng Tân Thanh"


def _bad_cases() -> list[tuple[str, dict[str, object], str]]:
    good_point = point(106.70, 21.99)
    return [
        ("unknown category", feature(geometry=good_point, category="ufo"), "properties.category"),
        (
            "self-intersecting",
            feature(
                geometry={
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [106.70, 21.99],
                            [106.71, 22.0],
                            [106.71, 21.99],
                            [106.70, 22.0],
                            [106.70, 21.99],
                        ]
                    ],
                }
            ),
            "geometry.coordinates",
        ),
        (
            "unclosed ring",
            feature(
                geometry={
                    "type": "Polygon",
                    "coordinates": [
                        [[106.70, 21.99], [106.71, 22.0], [106.71, 21.99], [106.70, 22.0]]
                    ],
                }
            ),
            "geometry.coordinates",
        ),
        ("latitude out of range", feature(geometry=point(106.7, 95.0)), "geometry.coordinates"),
        ("far from any border", feature(geometry=point(105.85, 21.03)), "geometry"),  # Hà Nội
        ("unknown marker", feature(location="VN-CN:1379"), "location"),
        ("past the end", feature(location="VN-CN:1378+9000"), "location"),
        ("location without border", feature(location="1089"), "location"),
        ("both places", {**feature(geometry=good_point), "location": "VN-CN:1089"}, "location"),
        ("no place", feature(), "location"),
        (
            "no time zone",
            feature(geometry=good_point, occurred_at="2024-05-10T09:30:00"),
            "properties.occurred_at",
        ),
        ("bad severity", feature(geometry=good_point, severity="extreme"), "properties.severity"),
        ("unknown property", feature(geometry=good_point, colour="red"), "properties.colour"),
        ("not a uuid", {**feature(geometry=good_point), "id": "abc"}, "id"),
        ("empty title", feature(geometry=good_point, title=""), "properties.title"),
        ("blank title", feature(geometry=good_point, title="   "), "properties.title"),
        (
            "2-D and 3-D positions mixed",
            feature(
                geometry={"type": "LineString", "coordinates": [[106.7, 22.0, 5.0], [106.71, 22.0]]}
            ),
            "geometry.coordinates",
        ),
        (
            "one point of a MultiPoint 500 km inland",
            feature(
                geometry={"type": "MultiPoint", "coordinates": [[106.70, 21.99], [105.0, 18.5]]}
            ),
            "geometry",
        ),
        (
            "a line running 500 km inland",
            feature(
                geometry={"type": "LineString", "coordinates": [[106.70, 21.99], [104.0, 17.0]]}
            ),
            "geometry",
        ),
        (
            "year 1",
            feature(geometry=good_point, occurred_at="0001-01-01T00:00:00-12:00"),
            "properties.occurred_at",
        ),
        (
            "next year",
            feature(geometry=good_point, occurred_at="2999-01-01T00:00:00+07:00"),
            "properties.occurred_at",
        ),
        (
            "geometry collection",
            feature(geometry={"type": "GeometryCollection", "geometries": []}),
            "geometry.type",
        ),
    ]


@pytest.mark.parametrize(("case", "body", "field"), _bad_cases(), ids=[c[0] for c in _bad_cases()])
async def test_bad_input_is_422_naming_the_field_and_stores_nothing(
    client, db, tokens: Tokens, case: str, body: dict[str, object], field: str
) -> None:
    before = await _count(db)
    r = await client.post("/api/v1/incidents", json=body, headers=bearer(tokens.admin))
    assert r.status_code == 422, (case, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    fields = [e["field"] for e in r.json()["errors"]]
    assert any(f == field or f.startswith(field) for f in fields), (case, fields)
    assert await _count(db) == before


async def test_scope_of_submission(client, db, tokens: Tokens) -> None:
    in_district = await off_line(client, tokens.admin, "1089+200", 15, "VN")  # Văn Lãng, Lạng Sơn
    far_away = await off_line(client, tokens.admin, "836(2)+300", 40, "VN")  # Cao Bằng
    cases = [
        ("reporter", in_district, 201),
        ("reporter", far_away, 403),
        ("officer", in_district, 201),
        ("officer", far_away, 403),
        ("officer_other", far_away, 201),
        ("officer_other", in_district, 403),
        ("analyst", in_district, 403),
        ("admin", far_away, 201),
    ]
    for who, (lon, lat), status in cases:
        r = await client.post(
            "/api/v1/incidents",
            json=feature(geometry=point(lon, lat)),
            headers=bearer(tokens.of(who)),
        )
        assert r.status_code == status, (who, r.text)
    assert (
        await client.post("/api/v1/incidents", json=feature(geometry=point(*in_district)))
    ).status_code == 401


async def test_a_report_reaching_past_the_callers_area_is_403_and_stores_nothing(
    client, db, tokens: Tokens
) -> None:
    """Whole, not in part: a Văn Lãng reporter's line from Văn Lãng to marker 821 (Cao
    Bằng) was stored in Cao Bằng and answered 404; the whole border as a location too."""
    in_district = await off_line(client, tokens.admin, "1089+200", 15, "VN")  # Văn Lãng
    marker_821 = await line_point(client, tokens.admin, "821")  # Cao Bằng
    reaching_out = [
        feature(
            geometry={"type": "LineString", "coordinates": [list(in_district), list(marker_821)]}
        ),
        feature(
            geometry={"type": "MultiPoint", "coordinates": [list(in_district), list(marker_821)]}
        ),
        feature(location="VN-CN:0-1378"),
    ]
    before = await _count(db)
    for who in ("reporter", "officer"):
        for body in reaching_out:
            body = {**body, "id": str(uuid.uuid4())}
            single = await client.post(
                "/api/v1/incidents", json=body, headers=bearer(tokens.of(who))
            )
            assert single.status_code == 403, (who, body, single.text)
            assert single.headers["content-type"] == "application/problem+json"
            batch = await client.post(
                "/api/v1/incidents:batch", json={"features": [body]}, headers=bearer(tokens.of(who))
            )
            assert batch.status_code == 200, batch.text
            assert batch.json()["results"][0]["result"] == "forbidden", batch.text
            assert batch.json()["results"][0]["problem"]["status"] == 403, batch.text
    assert await _count(db) == before
    # The admin (anywhere) may still file the line across both provinces.
    line = {**reaching_out[0], "id": str(uuid.uuid4())}
    assert (
        await client.post("/api/v1/incidents", json=line, headers=bearer(tokens.admin))
    ).status_code == 201


async def test_unicode_round_trips_in_nfc(client, tokens: Tokens) -> None:
    import unicodedata

    lon, lat = await off_line(client, tokens.admin, "1089+200", 15, "VN")
    decomposed = unicodedata.normalize("NFD", "Hàng rào trái phép ở Đồng Đăng")
    r = await client.post(
        "/api/v1/incidents",
        json=feature(geometry=point(lon, lat), title=decomposed, description=decomposed),
        headers=bearer(tokens.reporter),
    )
    assert r.json()["properties"]["title"] == unicodedata.normalize("NFC", decomposed)
    got = await client.get(f"/api/v1/incidents/{r.json()['id']}", headers=bearer(tokens.reporter))
    assert got.json()["properties"]["description"] == unicodedata.normalize("NFC", decomposed)


async def test_unknown_incident_is_404(client, tokens: Tokens) -> None:
    r = await client.get(f"/api/v1/incidents/{uuid.uuid4()}", headers=bearer(tokens.admin))
    assert r.status_code == 404


async def test_the_reach_beyond_an_area_is_across_the_border_not_into_the_next_province(
    client, db, tokens: Tokens
) -> None:
    """An officer's 5 km reach past the province is for the far side of the line (China
    has no units here). A point 2 km inside Cao Bằng near Lạng Sơn was accepted for Lạng
    Sơn's officer and stored in Cao Bằng, out of that officer's sight: it is a 403."""
    row = (
        await db.execute(
            text(
                """
                SELECT ST_X(p), ST_Y(p) FROM (
                  SELECT ST_PointOnSurface(ST_Intersection(cb.geom, ST_Buffer(
                      ST_Boundary(ls.geom)::geography, 2000)::geometry)) AS p
                  FROM admin_units cb, admin_units ls
                  WHERE cb.code = 'cao-bang' AND ls.code = 'lang-son'
                    AND cb.level = 'province' AND ls.level = 'province') x
                """
            )
        )
    ).one()
    inside_cao_bang = (float(row[0]), float(row[1]))
    near = await db.execute(
        text(
            "SELECT code FROM admin_units WHERE level = 'province' "
            "AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
        ),
        {"x": inside_cao_bang[0], "y": inside_cao_bang[1]},
    )
    assert [r[0] for r in near] == ["cao-bang"]
    before = await _count(db)
    r = await client.post(
        "/api/v1/incidents",
        json=feature(geometry=point(*inside_cao_bang)),
        headers=bearer(tokens.officer),
    )
    assert r.status_code == 403, r.text
    assert await _count(db) == before
    other = await client.post(
        "/api/v1/incidents",
        json=feature(geometry=point(*inside_cao_bang)),
        headers=bearer(tokens.officer_other),
    )
    assert other.status_code == 201, other.text
    assert other.json()["properties"]["province"] == "cao-bang"
