"""A corpus of bad geometries and coordinates: each is a 422 problem that names the field,
and nothing is written."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature

NEAR = [106.7578, 22.0465]  # Lạng Sơn, near the VN-CN line


def ring(n: int) -> list[list[float]]:
    import math

    return [
        [
            NEAR[0] + 0.001 * math.cos(2 * math.pi * i / n),
            NEAR[1] + 0.001 * math.sin(2 * math.pi * i / n),
        ]
        for i in range(n)
    ] + [[NEAR[0] + 0.001, NEAR[1]]]


def nested(depth: int) -> dict[str, Any]:
    geometry: dict[str, Any] = {"type": "Point", "coordinates": NEAR}
    for _ in range(depth):
        geometry = {"type": "GeometryCollection", "geometries": [geometry]}
    return geometry


CORPUS: dict[str, Any] = {
    "nan": '{"type": "Point", "coordinates": [NaN, 22.0]}',
    "infinity": '{"type": "Point", "coordinates": [Infinity, 22.0]}',
    "huge number": '{"type": "Point", "coordinates": [1e400, 22.0]}',
    "latitude over 90": {"type": "Point", "coordinates": [106.7, 95.0]},
    "longitude over 180": {"type": "Point", "coordinates": [190.0, 22.0]},
    "one coordinate": {"type": "Point", "coordinates": [106.7]},
    "string coordinates": {"type": "Point", "coordinates": ["106.7", "22.0"]},
    "empty point": {"type": "Point", "coordinates": []},
    "empty line": {"type": "LineString", "coordinates": []},
    "one-point line": {"type": "LineString", "coordinates": [NEAR]},
    "unclosed ring": {
        "type": "Polygon",
        "coordinates": [[NEAR, [106.76, 22.05], [106.77, 22.04], [106.758, 22.03]]],
    },
    "self-intersecting ring": {
        "type": "Polygon",
        "coordinates": [
            [[106.75, 22.04], [106.76, 22.05], [106.76, 22.04], [106.75, 22.05], [106.75, 22.04]]
        ],
    },
    "hole outside shell": {
        "type": "Polygon",
        "coordinates": [
            [[106.75, 22.04], [106.76, 22.04], [106.76, 22.05], [106.75, 22.05], [106.75, 22.04]],
            [[106.80, 22.10], [106.81, 22.10], [106.81, 22.11], [106.80, 22.10]],
        ],
    },
    "wrong nesting": {"type": "Polygon", "coordinates": [NEAR, NEAR, NEAR, NEAR]},
    "mixed dimensions": {"type": "LineString", "coordinates": [NEAR, [106.76, 22.05, 100.0, 5.0]]},
    "unknown type": {"type": "Circle", "coordinates": NEAR, "radius": 10},
    "too many vertices": {"type": "LineString", "coordinates": ring(20_000)},
    "deeply nested collection": nested(40),
    "far from any border": {"type": "Point", "coordinates": [-0.1276, 51.5072]},
    "geometry is a string": "POINT(106.7 22.0)",
    "geometry is null with no location": None,
}


@pytest.mark.parametrize("name", list(CORPUS))
async def test_bad_geometry_is_422_and_writes_nothing(
    client, db, tokens: Tokens, name: str
) -> None:
    before = (await db.execute(text("SELECT count(*) FROM incidents"))).scalar_one()
    audit_before = (await db.execute(text("SELECT count(*) FROM audit_log"))).scalar_one()
    body = feature(incident_id=uuid.uuid4())
    geometry = CORPUS[name]
    if isinstance(geometry, str) and geometry.startswith("{"):
        # Not JSON at all (NaN, Infinity): spliced in as text, as a broken client would send.
        raw = json.dumps({**body, "geometry": "@@"}).replace('"@@"', geometry)
    else:
        raw = json.dumps({**body, "geometry": geometry})
    r = await client.post(
        "/api/v1/incidents",
        content=raw,
        headers={**bearer(tokens.officer), "Content-Type": "application/geo+json"},
    )
    assert r.status_code == 422, (name, r.status_code, r.text[:300])
    problem = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    fields = [e["field"] for e in problem.get("errors", [])]
    assert any(f.startswith("geometry") or f in ("body", "location") for f in fields), (
        name,
        problem,
    )
    assert (await db.execute(text("SELECT count(*) FROM incidents"))).scalar_one() == before
    assert (await db.execute(text("SELECT count(*) FROM audit_log"))).scalar_one() == audit_before
