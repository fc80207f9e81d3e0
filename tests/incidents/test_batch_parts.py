"""A large batch stored in parts at once, a transaction each (intake.submit_batch_and_commit), against
the scratch database: the test's rolled-back connection cannot hold two transactions."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import Tokens, app_on, bearer, serving
from tests.incidents.helpers import feature, new_tag


async def test_a_batch_in_parts_answers_and_stores_as_one_would(
    scratch_url: str, tokens: Tokens, tmp_path: Path
) -> None:
    app = app_on(scratch_url, tmp_path, batch_parts=2, batch_part_min_items=2)
    tag = new_tag()
    items = [
        feature(location=f"VN-CN:1089+{10 * n}", tags=[tag], title=f"phần {n}") for n in range(12)
    ]
    repeated = items[3]
    conflicting = {**items[5], "properties": {**items[5]["properties"], "title": "khác"}}
    refused = feature(location="VN-CN:1089+400", tags=[tag], title="NUL\x00 ở giữa")
    body = [*items, repeated, {"type": "Feature", "properties": {}}, conflicting, refused]
    async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=60) as http:
        r = await http.post(
            "/api/v1/incidents:batch", json={"features": body}, headers=bearer(tokens.reporter)
        )
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert [x["index"] for x in results] == list(range(len(body)))
        assert [x["result"] for x in results] == ["created"] * 12 + [
            "duplicate",  # the same report twice falls in the same part
            "invalid",
            "conflict",  # the same id with other content, in the part of the first
            "invalid",  # PostgreSQL refused its NUL: its part was stored one by one
        ]
        again = await http.post(
            "/api/v1/incidents:batch", json={"features": items}, headers=bearer(tokens.reporter)
        )
        assert [x["result"] for x in again.json()["results"]] == ["duplicate"] * 12

    engine = create_async_engine(scratch_url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT id, chainage_ref, created_at AS tx FROM incidents "
                        "WHERE tags @> ARRAY[CAST(:tag AS varchar)]"
                    ),
                    {"tag": tag},
                )
            ).all()
            audited = await conn.scalar(
                text(
                    "SELECT count(*) FROM audit_log WHERE action = 'incident.create' "
                    "AND entity_id = ANY(CAST(:ids AS text[]))"
                ),
                {"ids": [i["id"] for i in items]},
            )
    finally:
        await engine.dispose()
    assert {str(r.id) for r in rows} == {i["id"] for i in items}
    assert all(r.chainage_ref.startswith("1089") for r in rows)  # each placed in its part
    # Two transactions stored them: created_at is now(), the start of its transaction
    # (the one-by-one part's savepoints included, which xmin would tell apart).
    assert len({r.tx for r in rows}) == 2
    assert audited == 12  # each part audits its own
    assert {uuid.UUID(i["id"]).int % 2 for i in items} == {0, 1}  # both parts had some
