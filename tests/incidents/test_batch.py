from __future__ import annotations

import uuid

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


async def test_batch_needs_a_writing_role(client, tokens: Tokens) -> None:
    r = await client.post(
        "/api/v1/incidents:batch",
        json={"features": [feature(location="VN-CN:1089")]},
        headers=bearer(tokens.analyst),
    )
    assert r.status_code == 403
