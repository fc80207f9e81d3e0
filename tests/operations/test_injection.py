"""Classic SQL injection payloads in every place a caller's text meets SQL: CQL2 filters,
sort keys, property names, property filters, text search, path parameters. Each is
refused or matched as plain data; no 5xx, and the tables are intact."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from sqlalchemy import text

from tests.conftest import Tokens, bearer

PAYLOADS = [
    "' OR '1'='1",
    "x'); DROP TABLE incidents; --",
    "1; SELECT pg_sleep(5)",
    "title\" = '' OR 1=1 --",
    "$$; DELETE FROM markers; $$",
    "\\'; TRUNCATE audit_log; --",
]

ITEMS = "/ogc/collections/incidents/items"


def requests(payload: str) -> list[tuple[str, dict[str, str]]]:
    escaped = payload.replace("'", "''")
    return [
        (ITEMS, {"filter": f"title = '{escaped}'"}),
        (ITEMS, {"filter": payload}),
        (ITEMS, {"filter": f"{payload} = 'x'"}),
        (
            ITEMS,
            {
                "filter": json.dumps({"op": "=", "args": [{"property": payload}, 1]}),
                "filter-lang": "cql2-json",
            },
        ),
        (ITEMS, {"sortby": payload}),
        (ITEMS, {"sortby": f"-occurred_at,{payload}"}),
        (ITEMS, {"properties": f"title,{payload}"}),
        (ITEMS, {"status": payload}),
        (ITEMS, {"crs": payload}),
        (ITEMS, {"bbox": payload}),
        (ITEMS, {"datetime": payload}),
        ("/api/v1/incidents", {"q": payload}),
        ("/api/v1/incidents", {"category": payload}),
        ("/api/v1/incidents", {"location": payload}),
        ("/api/v1/markers", {"q": payload}),
        ("/api/v1/chainage", {"border": "VN-CN", "ref": payload}),
        (f"/api/v1/incidents/{quote(payload, safe='')}", {}),
        (f"/ogc/collections/{quote(payload, safe='')}/items", {}),
        (f"/ogc/collections/incidents/items/{quote(payload, safe='')}", {}),
        (f"/api/v1/borders/{quote(payload, safe='')}/markers/1089", {}),
        (f"/api/v1/borders/VN-CN/markers/{quote(payload, safe='')}", {}),
        (f"/tiles/{quote(payload, safe='')}/1/1/1.mvt", {}),
    ]


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_payloads_never_reach_sql_as_text(client, db, tokens: Tokens, payload: str) -> None:
    counts = "SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM markers), (SELECT count(*) FROM audit_log)"
    before = (await db.execute(text(counts))).one()
    for path, params in requests(payload):
        r = await client.get(path, params=params, headers=bearer(tokens.admin))
        assert r.status_code < 500, (path, params, r.status_code, r.text[:300])
        if r.status_code == 200 and path == ITEMS and "filter" in params:
            # Matched as data: no incident has such a title.
            assert r.json()["features"] == [], (params, r.json()["numberReturned"])
        if r.status_code == 200 and path == ITEMS and "properties" in params:
            for f in r.json()["features"]:
                assert set(f["properties"]) <= {"title"}
    after = (await db.execute(text(counts))).one()
    assert tuple(after)[:2] == tuple(before)[:2]
    assert (await db.execute(text("SELECT to_regclass('incidents') IS NOT NULL"))).scalar_one()
