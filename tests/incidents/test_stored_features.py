"""Stored incident features (migration 6b383289a16b): each incident's feature kept as
text by triggers, byte for byte what the service builds, and what OGC pages serve."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.incidents.queries import incident_feature
from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature, new_tag, off_line, point

# Every incident's stored feature beside the one the service builds (in the session's own
# time zone, UTC for the service's connections).
DIFFERENCES = f"""
SELECT i.id, s.feature AS stored, ({incident_feature()})::text AS built
FROM incidents i JOIN borders b ON b.id = i.border_id
LEFT JOIN incident_features s ON s.incident_id = i.id
WHERE s.feature IS DISTINCT FROM ({incident_feature()})::text
"""
ORPHANS = """
SELECT count(*) FROM incident_features s
WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = s.incident_id)
"""


async def _assert_in_step(db: AsyncSession) -> None:
    differing = (await db.execute(text(DIFFERENCES))).all()
    assert differing == [], differing[:2]
    assert await db.scalar(text(ORPHANS)) == 0


async def _stored(db: AsyncSession, incident_id: str) -> dict[str, Any] | None:
    found = await db.scalar(
        text("SELECT feature FROM incident_features WHERE incident_id = :id"),
        {"id": uuid.UUID(incident_id)},
    )
    return None if found is None else dict(json.loads(found))


async def _near_1089(client, tokens: Tokens, **properties: Any) -> str:  # type: ignore[no-untyped-def]
    lon, lat = await off_line(client, tokens.admin, "1089+250", 25, "VN")
    r = await client.post(
        "/api/v1/incidents",
        json=feature(geometry=point(lon, lat), **properties),
        headers=bearer(tokens.admin),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_every_seeded_incident_has_its_feature_stored(db: AsyncSession) -> None:
    assert await db.scalar(text("SELECT count(*) FROM incident_features")) > 0
    await _assert_in_step(db)


async def test_writes_through_the_api_keep_the_stored_features_in_step(
    client, tokens: Tokens, db: AsyncSession
) -> None:
    tag = new_tag()
    incident_id = await _near_1089(client, tokens, tags=[tag], title="Trước khi sửa")
    stored = await _stored(db, incident_id)
    assert stored is not None and stored["properties"]["title"] == "Trước khi sửa"

    edited = await client.patch(
        f"/api/v1/incidents/{incident_id}",
        json={"title": "Sau khi sửa", "severity": "critical"},
        headers={**bearer(tokens.admin), "If-Match": '"1"'},
    )
    assert edited.status_code == 200, edited.text
    moved = await client.post(
        f"/api/v1/incidents/{incident_id}/transitions",
        json={"to": "verified"},
        headers=bearer(tokens.admin),
    )
    assert moved.status_code == 200, moved.text
    batch = await client.post(
        "/api/v1/incidents:batch",
        json={"features": [feature(location="VN-CN:1090+100", tags=[tag]) for _ in range(3)]},
        headers=bearer(tokens.admin),
    )
    assert batch.status_code == 200, batch.text
    # A zone's distance changes the context of every incident on the border (recomputed).
    zone = await client.put(
        "/api/v1/borders/VN-CN/zones/sightline_corridor",
        json={"distance_m": 40},
        headers=bearer(tokens.admin),
    )
    assert zone.status_code == 200, zone.text

    stored = await _stored(db, incident_id)
    assert stored is not None
    props = stored["properties"]
    assert (props["title"], props["severity"], props["status"], props["version"]) == (
        "Sau khi sửa",
        "critical",
        "verified",
        3,
    )
    assert "sightline_corridor" in props["zones"]
    served = await client.get(f"/api/v1/incidents/{incident_id}", headers=bearer(tokens.admin))
    assert {k: v for k, v in served.json()["properties"].items() if k in props} == props
    await _assert_in_step(db)


async def test_deleted_incidents_take_their_features_with_them(
    client, tokens: Tokens, db: AsyncSession
) -> None:
    incident_id = await _near_1089(client, tokens)
    assert await _stored(db, incident_id) is not None
    await db.execute(text("ALTER TABLE incident_history DISABLE TRIGGER USER"))
    await db.execute(
        text("DELETE FROM incident_history WHERE incident_id = :id"), {"id": incident_id}
    )
    await db.execute(text("DELETE FROM incidents WHERE id = :id"), {"id": incident_id})
    assert await _stored(db, incident_id) is None
    await _assert_in_step(db)

    await db.execute(text("TRUNCATE incidents CASCADE"))
    assert await db.scalar(text("SELECT count(*) FROM incident_features")) == 0


async def test_features_are_stored_in_utc_whatever_the_writers_time_zone(
    client, tokens: Tokens, db: AsyncSession
) -> None:
    """JSON timestamps carry the session's time zone: a writer in Vietnam time (psql, a
    script) still stores what the service, in UTC, would build."""
    incident_id = await _near_1089(client, tokens, occurred_at="2024-05-10T09:30:00+07:00")
    await db.execute(text("SET LOCAL timezone = 'Asia/Ho_Chi_Minh'"))
    await db.execute(
        text("UPDATE incidents SET severity = 'low' WHERE id = :id"), {"id": incident_id}
    )
    stored = await _stored(db, incident_id)
    assert stored is not None
    assert stored["properties"]["occurred_at"] == "2024-05-10T02:30:00+00:00"
    assert stored["properties"]["severity"] == "low"
    await db.execute(text("SET LOCAL timezone = 'UTC'"))
    await _assert_in_step(db)


async def test_rebuilding_restores_what_writes_with_the_triggers_off_left_out(
    client, tokens: Tokens, db: AsyncSession
) -> None:
    incident_id = await _near_1089(client, tokens)
    await db.execute(text("SET LOCAL session_replication_role = replica"))
    await db.execute(
        text("UPDATE incidents SET title = 'Không qua trigger' WHERE id = :id"), {"id": incident_id}
    )
    await db.execute(text("SET LOCAL session_replication_role = DEFAULT"))
    stale = await _stored(db, incident_id)
    assert stale is not None and stale["properties"]["title"] != "Không qua trigger"
    await db.execute(text("SELECT bordermark_rebuild_incident_features()"))
    rebuilt = await _stored(db, incident_id)
    assert rebuilt is not None and rebuilt["properties"]["title"] == "Không qua trigger"
    await _assert_in_step(db)


async def _page(client, tokens: Tokens, tag_id: str, **query: Any) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    r = await client.get(
        "/ogc/collections/incidents/items",
        params={"filter": "nearest_marker = '1089'", "limit": 1000, **query},
        headers=bearer(tokens.analyst),
    )
    assert r.status_code == 200, r.text
    return [f for f in r.json()["features"] if f["id"] == tag_id]


async def test_ogc_pages_serve_the_stored_features(
    client, tokens: Tokens, db: AsyncSession
) -> None:
    """A page in CRS84 with every property is the stored text; another CRS or chosen
    properties are built; a feature missing from the store is built in its place."""
    incident_id = await _near_1089(client, tokens, title="Tiêu đề gốc")
    await db.execute(
        text(
            "UPDATE incident_features SET feature = replace(feature, 'Tiêu đề gốc', 'Đã lưu') "
            "WHERE incident_id = :id"
        ),
        {"id": uuid.UUID(incident_id)},
    )
    [stored] = await _page(client, tokens, incident_id)
    assert stored["properties"]["title"] == "Đã lưu"
    [chosen] = await _page(client, tokens, incident_id, properties="title,status")
    assert chosen["properties"] == {"title": "Tiêu đề gốc", "status": "reported"}
    [projected] = await _page(client, tokens, incident_id, crs="EPSG:9210")
    assert projected["properties"]["title"] == "Tiêu đề gốc"

    await db.execute(
        text("DELETE FROM incident_features WHERE incident_id = :id"),
        {"id": uuid.UUID(incident_id)},
    )
    [built] = await _page(client, tokens, incident_id)
    assert built["properties"]["title"] == "Tiêu đề gốc"
    assert built == {**stored, "properties": {**stored["properties"], "title": "Tiêu đề gốc"}}


async def test_one_incident_is_its_stored_feature_with_its_attachments(
    client, tokens: Tokens, db: AsyncSession
) -> None:
    """GET /incidents/{id} (and every POST's answer) reads the stored text and adds the
    attachments as the last property; a feature missing from the store is built."""
    incident_id = await _near_1089(client, tokens, title="Tiêu đề gốc")
    url = f"/api/v1/incidents/{incident_id}"
    first = (await client.get(url, headers=bearer(tokens.admin))).json()
    assert list(first["properties"])[-1] == "attachments"
    assert first["properties"]["attachments"] == []
    await db.execute(
        text(
            "UPDATE incident_features SET feature = replace(feature, 'Tiêu đề gốc', 'Đã lưu') "
            "WHERE incident_id = :id"
        ),
        {"id": uuid.UUID(incident_id)},
    )
    stored = (await client.get(url, headers=bearer(tokens.admin))).json()
    assert stored == {**first, "properties": {**first["properties"], "title": "Đã lưu"}}
    await db.execute(
        text("DELETE FROM incident_features WHERE incident_id = :id"),
        {"id": uuid.UUID(incident_id)},
    )
    assert (await client.get(url, headers=bearer(tokens.admin))).json() == first


async def test_incident_lists_serve_the_stored_features(
    client, tokens: Tokens, db: AsyncSession
) -> None:
    """The list's pages, newest first and nearest first, read the stored text: the near
    list adds `distance_m` as the last property. A feature missing from the store is
    built in its place, the same feature."""
    tag = new_tag()
    incident_id = await _near_1089(client, tokens, title="Tiêu đề gốc", tags=[tag])
    [ogc] = await _page(client, tokens, incident_id)
    lon, lat = ogc["geometry"]["coordinates"]

    async def lists() -> tuple[dict[str, Any], dict[str, Any]]:
        newest = await client.get(
            "/api/v1/incidents", params={"tag": tag}, headers=bearer(tokens.admin)
        )
        nearest = await client.get(
            "/api/v1/incidents",
            params={"tag": tag, "near": f"{lon},{lat}", "within_m": 100},
            headers=bearer(tokens.admin),
        )
        [by_date] = newest.json()["features"]
        [by_distance] = nearest.json()["features"]
        return by_date, by_distance

    by_date, by_distance = await lists()
    assert by_date == ogc
    assert list(by_distance["properties"])[-1] == "distance_m"
    assert by_distance["properties"]["distance_m"] == 0
    assert by_distance == {**ogc, "properties": {**ogc["properties"], "distance_m": 0}}
    await db.execute(
        text(
            "UPDATE incident_features SET feature = replace(feature, 'Tiêu đề gốc', 'Đã lưu') "
            "WHERE incident_id = :id"
        ),
        {"id": uuid.UUID(incident_id)},
    )
    stored_date, stored_distance = await lists()
    assert stored_date["properties"]["title"] == stored_distance["properties"]["title"] == "Đã lưu"
    await db.execute(
        text("DELETE FROM incident_features WHERE incident_id = :id"),
        {"id": uuid.UUID(incident_id)},
    )
    assert await lists() == (by_date, by_distance)
