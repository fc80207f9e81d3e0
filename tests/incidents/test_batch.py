from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature, new_tag, off_line, point


async def test_mixed_batch_reports_each_item_in_order(client, db, tokens: Tokens) -> None:
    tag = new_tag()
    inside = await off_line(client, tokens.admin, "1089+200", 15, "VN")
    cao_bang = await off_line(client, tokens.admin, "836(2)+300", 40, "VN")
    first = feature(geometry=point(*inside), tags=[tag], title="một")
    existing = feature(geometry=point(*inside), tags=[tag], title="đã gửi")
    assert (
        await client.post("/api/v1/incidents", json=existing, headers=bearer(tokens.reporter))
    ).status_code == 201
    items = [
        first,
        existing,  # sent before: duplicate
        {**existing, "properties": {**existing["properties"], "title": "khác"}},  # conflict
        feature(geometry=point(*inside), category="ufo", tags=[tag]),  # invalid: category
        {
            "type": "Feature",
            "id": str(uuid.uuid4()),
            "properties": {"title": "thiếu"},
        },  # invalid: schema
        feature(geometry=point(*cao_bang), tags=[tag]),  # forbidden: outside the district
        first,  # repeated inside the batch: duplicate
        feature(location="VN-CN:1089+350", tags=[tag], title="ba"),
        "not even an object",
    ]
    r = await client.post(
        "/api/v1/incidents:batch", json={"features": items}, headers=bearer(tokens.reporter)
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["result"] for x in results] == [
        "created",
        "duplicate",
        "conflict",
        "invalid",
        "invalid",
        "forbidden",
        "duplicate",
        "created",
        "invalid",
    ]
    assert [x["index"] for x in results] == list(range(len(items)))
    assert results[3]["problem"]["errors"][0]["field"] == "properties.category"
    assert {e["field"] for e in results[4]["problem"]["errors"]} >= {
        "properties.category",
        "properties.occurred_at",
    }
    assert results[2]["problem"]["status"] == 409
    assert r.json()["counts"] == {
        "created": 2,
        "duplicate": 2,
        "conflict": 1,
        "invalid": 3,
        "forbidden": 1,
    }
    stored = (
        await db.execute(
            text("SELECT count(*) FROM incidents WHERE CAST(:t AS varchar) = ANY(tags)"), {"t": tag}
        )
    ).scalar_one()
    assert stored == 3  # existing + first + the chainage one


async def test_batch_size_is_bounded(client, tokens: Tokens) -> None:
    body = {"features": [feature(location="VN-CN:1089")] * 501}
    r = await client.post("/api/v1/incidents:batch", json=body, headers=bearer(tokens.reporter))
    assert r.status_code == 422
    empty = await client.post(
        "/api/v1/incidents:batch", json={"features": []}, headers=bearer(tokens.reporter)
    )
    assert empty.status_code == 422


async def test_a_batch_of_long_lines_is_bounded_in_vertices_before_any_is_read(
    client_with, db, tokens: Tokens
) -> None:  # type: ignore[no-untyped-def]
    """Fifty lines of 10,000 vertices (each within its own limit) are 500,000 vertices to
    validate in the event loop: a 413 that says to send smaller batches, nothing stored."""
    tag = new_tag()
    line = {
        "type": "LineString",
        "coordinates": [[106.70 + i * 1e-6, 21.99] for i in range(10_000)],
    }
    body = {"features": [feature(geometry=line, tags=[tag]) for _ in range(50)]}
    async with client_with(max_batch_vertices=100_000) as c:
        r = await c.post("/api/v1/incidents:batch", json=body, headers=bearer(tokens.reporter))
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "smaller batches" in r.json()["detail"]
    stored = await db.execute(
        text("SELECT count(*) FROM incidents WHERE :t = ANY(tags)"), {"t": tag}
    )
    assert stored.scalar_one() == 0


async def test_batch_needs_a_writing_role(client, tokens: Tokens) -> None:
    r = await client.post(
        "/api/v1/incidents:batch",
        json={"features": [feature(location="VN-CN:1089")]},
        headers=bearer(tokens.analyst),
    )
    assert r.status_code == 403


# The batch stores its items together (app/incidents/bulk.py); one POST each stores them
# one by one. Both must place, check and refuse alike.
PLACES: list[dict[str, Any]] = [
    {"location": "VN-CN:1089"},
    {"location": "VN-CN:1089+350"},
    {"location": "VN-CN:836(2)"},  # a bank marker, off the line
    {"location": "VN-CN:1042-1053/1"},  # a range: a line along the border
    {"location": "1090+20", "border": "VN-CN"},  # the border given apart
    {"geometry": {"type": "Point", "coordinates": [106.70035, 21.98429]}},
    {"geometry": {"type": "Point", "coordinates": [106.70035, 21.98429]}, "border": "VN-CN"},
    {
        "geometry": {
            "type": "LineString",
            "coordinates": [[106.700327, 21.98431], [106.69959, 21.984895]],
        }
    },
]
CONTEXT = (
    "ST_AsText(geom), border_id, location_ref, chainage_ref, side, round(distance_to_line_m) "
    "AS d, district_code, province_code, zones, nearest_marker_code, crosses_line"
)


def _placed(place: dict[str, Any], tag: str) -> dict[str, Any]:
    extra = {"border": place["border"]} if "border" in place else {}
    return feature(
        geometry=place.get("geometry"), location=place.get("location"), tags=[tag], **extra
    )


async def _stored(db: Any, ids: list[str]) -> list[Any]:
    rows = await db.execute(
        text(f"SELECT id::text, {CONTEXT} FROM incidents WHERE id = ANY(CAST(:ids AS uuid[]))"),
        {"ids": ids},
    )
    by_id = {r[0]: tuple(r[1:]) for r in rows}
    return [by_id[i] for i in ids]


async def test_a_batch_places_its_items_as_one_post_each_does(client, db, tokens: Tokens) -> None:
    tag = new_tag()
    one_by_one = [_placed(p, tag) for p in PLACES]
    together = [_placed(p, tag) for p in PLACES]
    for body in one_by_one:
        r = await client.post("/api/v1/incidents", json=body, headers=bearer(tokens.admin))
        assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/incidents:batch", json={"features": together}, headers=bearer(tokens.admin)
    )
    assert [x["result"] for x in r.json()["results"]] == ["created"] * len(PLACES), r.text
    assert await _stored(db, [b["id"] for b in together]) == await _stored(
        db, [b["id"] for b in one_by_one]
    )
    # Each new incident has one audit entry and one history entry, either way.
    for bodies in (one_by_one, together):
        ids = [b["id"] for b in bodies]
        audit = await db.execute(
            text(
                "SELECT entity_id, actor_role, detail->>'category', count(*) OVER (PARTITION BY "
                "entity_id) FROM audit_log WHERE action = 'incident.create' "
                "AND entity_id = ANY(CAST(:ids AS text[]))"
            ),
            {"ids": ids},
        )
        assert sorted(tuple(r) for r in audit) == sorted((i, "admin", "fence", 1) for i in ids)
        history = await db.execute(
            text(
                "SELECT count(*) FROM incident_history WHERE action = 'created' "
                "AND incident_id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"ids": ids},
        )
        assert history.scalar_one() == len(ids)


BAD: list[tuple[dict[str, Any], str]] = [
    ({"location": "VN-CN:9999"}, "the border has no marker 9999"),
    ({"location": "VN-CN:9999+10"}, "border VN-CN has no marker 9999"),
    ({"location": "VN-CN:1378+90000"}, "past the end of the VN-CN line"),
    ({"location": "XX-YY:12"}, "no border 'XX-YY'"),
    ({"location": "VN-CN:12+3+4"}, "offset '3+4' is not metres"),
    ({"geometry": {"type": "Point", "coordinates": [105.85, 21.03]}, "border": "VN-CN"}, "reach"),
    (
        {"geometry": {"type": "Point", "coordinates": [106.7, 21.98]}, "location": "VN-CN:1089"},
        "exactly one of geometry or location",
    ),
]


async def test_a_batch_refuses_what_one_post_refuses_with_the_same_words(
    client, tokens: Tokens
) -> None:
    tag = new_tag()
    bodies = [_placed(p, tag) for p, _ in BAD]
    singly = []
    for body, (_, words) in zip(bodies, BAD, strict=True):
        r = await client.post("/api/v1/incidents", json=body, headers=bearer(tokens.admin))
        assert r.status_code in (404, 422), r.text
        assert words in r.json()["detail"]
        singly.append(r.json())
    r = await client.post(
        "/api/v1/incidents:batch",
        json={"features": [{**b, "id": str(uuid.uuid4())} for b in bodies]},
        headers=bearer(tokens.admin),
    )
    results = r.json()["results"]
    assert [x["result"] for x in results] == ["invalid"] * len(BAD)
    assert [x["problem"]["detail"] for x in results] == [p["detail"] for p in singly]


async def test_a_value_postgres_refuses_sinks_only_its_item(client, db, tokens: Tokens) -> None:
    tag = new_tag()
    good = feature(location="VN-CN:1089+10", tags=[tag])
    bad = feature(location="VN-CN:1089+20", tags=[tag], title="NUL\x00 ở giữa")
    r = await client.post(
        "/api/v1/incidents:batch", json={"features": [good, bad]}, headers=bearer(tokens.admin)
    )
    assert r.status_code == 200, r.text
    assert [x["result"] for x in r.json()["results"]] == ["created", "invalid"]
    stored = await db.execute(
        text("SELECT id::text FROM incidents WHERE CAST(:t AS varchar) = ANY(tags)"), {"t": tag}
    )
    assert [row[0] for row in stored] == [good["id"]]
    # The item's refusal reads as the same value sent alone does (the 422 of a POST).
    alone = await client.post(
        "/api/v1/incidents", json={**bad, "id": str(uuid.uuid4())}, headers=bearer(tokens.admin)
    )
    assert alone.status_code == 422, alone.text
    assert r.json()["results"][1]["problem"]["detail"] == alone.json()["detail"]
