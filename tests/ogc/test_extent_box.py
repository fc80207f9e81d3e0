"""A bbox's keys from the incidents' extent box index (migration 8a4d2c6e0b19) or from
their geometry, as PostGIS's estimate says: the same pages either way."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.auth.models import Role
from app.layers import LAYERS
from app.ogc import statements as ogc_statements
from tests.conftest import Tokens, bearer

INCIDENTS = LAYERS["incidents"]
# Around Hữu Nghị (marker 1089), where the demo data's incidents cluster, and wider.
BBOXES = ["106.60,21.85,106.85,22.10", "102.0,8.0,110.0,24.0"]


async def _walk(client, token: str, bbox: str) -> tuple[list[str], int]:  # type: ignore[no-untyped-def]
    """Every feature id of a bbox, page by page (2 a page), and numberMatched."""
    url: str | None = f"/ogc/collections/incidents/items?bbox={bbox}&limit=2"
    ids: list[str] = []
    while url:
        r = await client.get(url, headers=bearer(token))
        assert r.status_code == 200, r.text
        body = r.json()
        ids += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    return ids, body["numberMatched"]


async def _few_match(db: AsyncSession, bbox: str, at_most: float) -> bool:
    x1, y1, x2, y2 = (float(v) for v in bbox.split(","))
    return bool(
        (
            await db.execute(
                text(
                    "SELECT bordermark_few_match('incidents', 'geom', "
                    "ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326), :n)"
                ),
                {"x1": x1, "y1": y1, "x2": x2, "y2": y2, "n": at_most},
            )
        ).scalar_one()
    )


@pytest.mark.parametrize("who", ["analyst", "officer"])
async def test_a_bbox_pages_the_same_from_the_box_index_and_from_the_geometry(
    client, db: AsyncSession, tokens: Tokens, monkeypatch: pytest.MonkeyPatch, who: str
) -> None:
    await db.execute(text("ANALYZE incidents"))  # the estimate needs statistics
    for bbox in BBOXES:
        monkeypatch.setattr(ogc_statements, "EXTENT_BOX_AT_MOST", 1e12)  # always the box index
        assert await _few_match(db, bbox, 1e12)
        by_box, matched_by_box = await _walk(client, tokens.of(who), bbox)
        monkeypatch.setattr(ogc_statements, "EXTENT_BOX_AT_MOST", 0)  # always the geometry
        assert not await _few_match(db, bbox, 0)
        by_geometry, matched_by_geometry = await _walk(client, tokens.of(who), bbox)
        assert len(by_box) > 4, "several pages"
        assert by_box == by_geometry
        assert matched_by_box == matched_by_geometry == len(by_box) == len(set(by_box))


async def test_without_statistics_the_geometry_finds_the_keys(db: AsyncSession) -> None:
    """PostGIS raises where a table was never analyzed: the gate says no, and the page is
    found as before the extent box."""
    await db.execute(text("CREATE TEMP TABLE never_analyzed (geom geometry)"))
    await db.execute(text("INSERT INTO never_analyzed VALUES (ST_MakePoint(106.7, 22.0))"))
    few = (
        await db.execute(
            text(
                "SELECT bordermark_few_match('never_analyzed', 'geom', "
                "ST_MakeEnvelope(106, 21, 107, 23, 4326), 1e12)"
            )
        )
    ).scalar_one()
    assert few is False


def test_the_bbox_is_written_into_the_statement_not_bound() -> None:
    """Bound, one generic plan would serve every bbox after five (a 2 x 2 degree bbox 0.8-1
    s instead of 20-30 ms at a million incidents)."""
    caller = Caller(token_id=None, name="test", role=Role.analyst)
    bbox = [106.693462, 21.977826, 106.703462, 21.987826]
    statement = ogc_statements.items_page_statement(INCIDENTS, caller, limit=10, bbox=bbox)
    sql = statement.text
    assert not {"x1", "y1", "x2", "y2"} & set(statement.params)
    assert "ST_MakeEnvelope(106.693462, 21.977826, 106.703462, 21.987826, 4326)" in sql
    # The box way reads the incidents alone (no join to keep its column in the scan).
    ways = re.findall(r"SELECT i\.id AS k FROM (.+?) WHERE (.+?) ORDER BY", sql)
    by_box = [source for source, where in ways if "i.geom &&" not in where]
    assert by_box == ["incidents i"]


def test_a_join_stays_where_the_filter_reads_it() -> None:
    assert INCIDENTS.source_for("i.status = :s", "i.id") == "incidents i"
    assert INCIDENTS.source_for("b.code = :cql_0", "i.id") == INCIDENTS.source
    assert INCIDENTS.source_for("TRUE", "b.code, i.id") == INCIDENTS.source


async def test_a_point_just_outside_is_outside_either_way_and_in_the_count(
    client, db: AsyncSession, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A point a few microdegrees (a third of a metre) past the bbox's east edge: PostGIS's
    && rounds boxes to float4 and lets it in, box && box (within 1e-6) does not; the pages
    and the count leave it out, whichever way finds the keys."""
    await db.execute(text("ANALYZE incidents"))
    incident_id, x, y = (
        await db.execute(
            text(
                "SELECT id::text, ST_X(geom), ST_Y(geom) FROM incidents "
                "WHERE GeometryType(geom) = 'POINT' ORDER BY id LIMIT 1"
            )
        )
    ).one()

    async def let_in(x2: float) -> bool:
        found = await db.execute(
            text(
                "SELECT geom && ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326) FROM incidents "
                "WHERE id = CAST(:id AS uuid)"
            ),
            {"x1": x - 0.05, "y1": y - 0.05, "x2": x2, "y2": y + 0.05, "id": incident_id},
        )
        return bool(found.scalar_one())

    # Where the point and the edge round to the same float4, PostGIS lets the point in.
    let_in_at = [x - d for d in (3e-6, 2e-6, 4e-6, 5e-6, 6e-6) if await let_in(x - d)]
    assert let_in_at, "one of the edges shares the point's float4"
    x2 = let_in_at[0]
    bbox = f"{x - 0.05!r},{y - 0.05!r},{x2!r},{y + 0.05!r}"
    for at_most in (1e12, 0):  # the box index, then the geometry
        monkeypatch.setattr(ogc_statements, "EXTENT_BOX_AT_MOST", at_most)
        ids, matched = await _walk(client, tokens.analyst, bbox)
        assert incident_id not in ids
        counted = (
            await client.get(
                "/ogc/collections/incidents/items",
                params={"bbox": bbox, "limit": 1, "count": "true"},
                headers=bearer(tokens.analyst),
            )
        ).json()
        assert counted["numberMatched"] == matched == len(ids)
