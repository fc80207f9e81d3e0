"""Filters, their combination, ordering, keyset paging under inserts, visibility, index use."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.auth.models import Role
from app.incidents.queries import IncidentFilter, SimilarSettings, _similar_sql, where_clause
from tests.conftest import ClientWith, Tokens, bearer
from tests.incidents.helpers import GEOD, feature, new_tag, off_line, point


async def _ids(client, tokens: Tokens, **params: Any) -> list[str]:  # type: ignore[no-untyped-def]
    r = await client.get(
        "/api/v1/incidents", params={"limit": 1000, **params}, headers=bearer(tokens.admin)
    )
    assert r.status_code == 200, r.text
    return [f["id"] for f in r.json()["features"]]


@pytest.fixture
async def world(client, tokens: Tokens) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Six incidents of one test, under a tag of their own."""
    tag = new_tag()
    specs = {
        "fence_crossing": dict(
            geometry="1089+250:cross",
            category="fence",
            title="Hàng rào Đồng Đăng",
            occurred_at="2024-03-01T08:00:00+07:00",
        ),
        "camera_vn": dict(
            geometry="1089+300:20:VN",
            category="surveillance_equipment",
            title="Camera giám sát",
            occurred_at="2024-04-01T08:00:00+07:00",
            severity="high",
        ),
        "drone_far": dict(
            geometry="1089+300:8000:VN",
            category="aerial_flight",
            title="Flycam bay gần biên giới",
            occurred_at="2024-05-01T08:00:00+07:00",
        ),
        "fire_cb": dict(
            geometry="836(2)+300:600:VN",
            category="fire",
            title="Cháy rừng Trùng Khánh",
            occurred_at="2023-02-10T08:00:00+07:00",
            severity="critical",
        ),
        "trench": dict(
            location="VN-CN:1045+100-1045+900",
            category="excavation",
            title="Đào hào, rải cáp quang",
            occurred_at="2021-06-15T08:00:00+07:00",
        ),
        "marker": dict(
            location="VN-CN:1090",
            category="marker_damage",
            title="Mốc 1090 bị xê dịch",
            occurred_at="2024-06-01T08:00:00+07:00",
        ),
    }
    ids: dict[str, str] = {}
    for name, spec in specs.items():
        spec = dict(spec)
        if str(spec.get("geometry", "")).endswith(":cross"):
            ref = str(spec.pop("geometry")).split(":")[0]
            a = await off_line(client, tokens.admin, ref, 40, "VN")
            b = await off_line(client, tokens.admin, ref, 60, "CN")
            spec["geometry"] = {"type": "LineString", "coordinates": [list(a), list(b)]}
        elif "geometry" in spec:
            ref, metres, side = str(spec.pop("geometry")).split(":")
            spec["geometry"] = point(
                *(await off_line(client, tokens.admin, ref, float(metres), side))
            )
        body = feature(tags=[tag], **spec)
        r = await client.post("/api/v1/incidents", json=body, headers=bearer(tokens.admin))
        assert r.status_code == 201, (name, r.text)
        ids[name] = r.json()["id"]
    return {"tag": tag, "ids": ids}


def names(world: dict[str, Any], ids: list[str]) -> list[str]:
    by_id = {v: k for k, v in world["ids"].items()}
    return [by_id[i] for i in ids if i in by_id]


async def test_newest_first(client, tokens: Tokens, world) -> None:  # type: ignore[no-untyped-def]
    got = names(world, await _ids(client, tokens, tag=world["tag"]))
    assert got == ["marker", "drone_far", "camera_vn", "fence_crossing", "fire_cb", "trench"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": ["fence", "fire"]}, {"fence_crossing", "fire_cb"}),
        ({"province": "cao-bang"}, {"fire_cb"}),
        ({"district": "van-lang"}, {"fence_crossing", "camera_vn", "marker", "trench"}),
        ({"severity": "critical"}, {"fire_cb"}),
        (
            {"occurred_since": "2024-01-01", "occurred_until": "2024-05-01"},
            {"fence_crossing", "camera_vn"},
        ),
        ({"zone": "no_new_structures_30m"}, {"fence_crossing", "camera_vn", "marker", "trench"}),
        ({"zone": "sightline_corridor"}, {"fence_crossing", "marker", "trench"}),
        ({"crosses_line": "true"}, {"fence_crossing"}),
        ({"q": "dong dang"}, {"fence_crossing"}),
        ({"q": "Đồng Đăng"}, {"fence_crossing"}),
        ({"q": "CAP QUANG"}, {"trench"}),
        ({"range": "VN-CN:1042-1053/1", "within_m": 200}, {"trench"}),
        ({"near": "VN-CN:1089", "within_m": 500}, {"fence_crossing", "camera_vn"}),
        ({"bbox": "106.5,22.6,106.9,23.0"}, {"fire_cb"}),
        (
            {
                "status": "reported",
                "category": "fence",
                "zone": "sightline_corridor",
                "district": "van-lang",
            },
            {"fence_crossing"},
        ),
        ({"status": "resolved"}, set()),
    ],
)
async def test_filters(
    client, tokens: Tokens, world, params: dict[str, Any], expected: set[str]
) -> None:  # type: ignore[no-untyped-def]
    got = set(names(world, await _ids(client, tokens, tag=world["tag"], **params)))
    assert got == expected


async def test_near_sorts_by_distance_and_says_it(client, tokens: Tokens, world) -> None:  # type: ignore[no-untyped-def]
    lon, lat = 106.6985, 21.9830
    r = await client.get(
        "/api/v1/incidents",
        params={"tag": world["tag"], "near": f"{lon},{lat}", "within_m": 20000},
        headers=bearer(tokens.admin),
    )
    features = r.json()["features"]
    distances = [f["properties"]["distance_m"] for f in features]
    assert distances == sorted(distances) and len(features) == 5  # all but the Cao Bằng fire
    point_features = [f for f in features if f["geometry"]["type"] == "Point"]
    for f in point_features:
        _, _, metres = GEOD.inv(lon, lat, *f["geometry"]["coordinates"])
        assert f["properties"]["distance_m"] == pytest.approx(metres, abs=0.5)


async def test_keyset_paging_is_stable_under_inserts(client, tokens: Tokens, world) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    url: str | None = f"/api/v1/incidents?tag={world['tag']}&limit=2"
    inserted = False
    while url:
        r = await client.get(url, headers=bearer(tokens.admin))
        body = r.json()
        seen += [f["id"] for f in body["features"]]
        if not inserted:
            # A newer incident arrives between page 1 and page 2: it must not shift pages.
            lon, lat = await off_line(client, tokens.admin, "1089+300", 50, "VN")
            newer = feature(
                geometry=point(lon, lat),
                tags=[world["tag"]],
                occurred_at="2025-01-01T00:00:00+07:00",
            )
            assert (
                await client.post("/api/v1/incidents", json=newer, headers=bearer(tokens.admin))
            ).status_code == 201
            inserted = True
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert len(seen) == len(set(seen)) == 6
    assert set(seen) == set(world["ids"].values())


async def test_near_paging(client, tokens: Tokens, world) -> None:  # type: ignore[no-untyped-def]
    url: str | None = f"/api/v1/incidents?tag={world['tag']}&near=VN-CN:1089&within_m=30000&limit=2"
    distances: list[float] = []
    ids: list[str] = []
    while url:
        body = (await client.get(url, headers=bearer(tokens.admin))).json()
        distances += [f["properties"]["distance_m"] for f in body["features"]]
        ids += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert distances == sorted(distances)
    assert len(ids) == len(set(ids)) == 5  # all but the Cao Bằng fire


async def test_visibility_by_province(client, tokens: Tokens, world) -> None:  # type: ignore[no-untyped-def]
    lang_son = await client.get(
        "/api/v1/incidents", params={"tag": world["tag"]}, headers=bearer(tokens.officer)
    )
    assert "fire_cb" not in names(world, [f["id"] for f in lang_son.json()["features"]])
    cao_bang = await client.get(
        "/api/v1/incidents", params={"tag": world["tag"]}, headers=bearer(tokens.officer_other)
    )
    assert names(world, [f["id"] for f in cao_bang.json()["features"]]) == ["fire_cb"]
    hidden = await client.get(
        f"/api/v1/incidents/{world['ids']['fence_crossing']}", headers=bearer(tokens.officer_other)
    )
    assert hidden.status_code == 404
    analyst = await client.get(
        "/api/v1/incidents", params={"tag": world["tag"]}, headers=bearer(tokens.analyst)
    )
    assert len(analyst.json()["features"]) == 6


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"near": "abc"}, "near"),
        ({"near": "200,10"}, "near"),
        ({"range": "VN-CN:1089"}, "range"),
        ({"range": "VN-CN:1053-1042"}, "location"),
        ({"status": "open"}, "status.0"),
        ({"within_m": "-5"}, "within_m"),
        ({"cursor": "garbage"}, "cursor"),
        ({"occurred_since": "yesterday"}, "occurred_since"),
    ],
)
async def test_bad_query_parameters(
    client, tokens: Tokens, params: dict[str, str], field: str
) -> None:
    r = await client.get("/api/v1/incidents", params=params, headers=bearer(tokens.admin))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


async def test_text_search_is_not_sql(client, tokens: Tokens, world) -> None:  # type: ignore[no-untyped-def]
    for payload in ["%", "_", "' OR 1=1 --", "\\"]:
        assert await _ids(client, tokens, tag=world["tag"], q=payload) == []


@pytest.mark.parametrize(
    ("given", "index"),
    [
        (IncidentFilter(near=(106.7, 21.98), within_m=500), "ix_incidents_geog"),
        (IncidentFilter(zone="sightline_corridor"), "ix_incidents_zones"),
        (IncidentFilter(q="dong dang"), "ix_incidents_search_text"),
    ],
)
async def test_filters_can_use_their_index(db, given: IncidentFilter, index: str) -> None:
    # The service's own WHERE (queries.where_clause, as the list runs it), not SQL written
    # here: with sequential scans priced out, a plan that still cannot name the index means
    # the service's expression does not match it (e.g. a missing ::geography cast).
    where = where_clause(given, Caller(token_id=None, name="t", role=Role.analyst))
    await db.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        r[0]
        for r in await db.execute(
            text(f"EXPLAIN SELECT i.id FROM incidents i JOIN borders b ON b.id = i.border_id "
                 f"WHERE {where.text}"),
            where.params,
        )
    )  # fmt: skip
    assert index in plan, plan


async def test_similar_on_creation(client, tokens: Tokens) -> None:
    lon, lat = await off_line(client, tokens.admin, "1089+300", 20, "VN")
    first = await client.post(
        "/api/v1/incidents", json=feature(geometry=point(lon, lat)), headers=bearer(tokens.reporter)
    )
    nearby = GEOD.fwd(lon, lat, 45, 150)[:2]
    second = await client.post(
        "/api/v1/incidents", json=feature(geometry=point(*nearby)), headers=bearer(tokens.reporter)
    )
    assert first.json()["id"] in [s["id"] for s in second.json()["similar"]]
    other_kind = await client.post(
        "/api/v1/incidents",
        json=feature(geometry=point(*nearby), category="smuggling"),
        headers=bearer(tokens.reporter),
    )
    assert other_kind.json()["similar"] == []
    far_in_time = await client.post(
        "/api/v1/incidents",
        json=feature(
            geometry=point(*nearby),
            occurred_at="2024-07-10T09:30:00+07:00",
            incident_id=uuid.uuid4(),
        ),
        headers=bearer(tokens.reporter),
    )
    assert first.json()["id"] not in [s["id"] for s in far_in_time.json()["similar"]]


async def test_a_post_answers_with_the_similar_reports_nearest_first(
    client, tokens: Tokens
) -> None:
    """The POST's feature and its similar reports come from one statement: the list must
    be what /similar gives, nearest first, with every field."""
    lon, lat = await off_line(client, tokens.admin, "1089+300", 20, "VN")
    earlier = []
    for metres in (160, 40, 110):  # stored out of distance order
        spot = GEOD.fwd(lon, lat, 90, metres)[:2]
        r = await client.post(
            "/api/v1/incidents",
            json=feature(geometry=point(*spot)),
            headers=bearer(tokens.reporter),
        )
        earlier.append((metres, r.json()["id"]))
    new = await client.post(
        "/api/v1/incidents", json=feature(geometry=point(lon, lat)), headers=bearer(tokens.reporter)
    )
    assert new.status_code == 201
    answered = new.json()["similar"]
    listed = await client.get(
        f"/api/v1/incidents/{new.json()['id']}/similar", headers=bearer(tokens.reporter)
    )
    assert answered == listed.json()["similar"]
    ours = [s for s in answered if s["id"] in {i for _, i in earlier}]
    assert [s["id"] for s in ours] == [i for _, i in sorted(earlier)]
    assert [round(s["distance_m"]) for s in ours] == [40, 110, 160]
    assert [s["distance_m"] for s in answered] == sorted(s["distance_m"] for s in answered)
    assert set(answered[0]) == {"id", "title", "status", "occurred_at", "category", "distance_m"}


async def test_similar_follows_its_settings_and_leaves_settled_reports_out(
    client_with: ClientWith, tokens: Tokens
) -> None:
    """The distance and the days are written into the statement's text (so PostgreSQL keeps
    one plan for it): they must still be the deployment's settings."""
    async with client_with(similar_within_m=400.0, similar_within_days=3) as client:
        lon, lat = await off_line(client, tokens.admin, "1089+300", 20, "VN")
        first = await client.post(
            "/api/v1/incidents",
            json=feature(geometry=point(lon, lat)),
            headers=bearer(tokens.reporter),
        )
        at_300_m = GEOD.fwd(lon, lat, 45, 300)[:2]

        async def similar_ids(**changes: Any) -> list[str]:
            r = await client.post(
                "/api/v1/incidents",
                json=feature(geometry=point(*at_300_m), **changes),
                headers=bearer(tokens.reporter),
            )
            assert r.status_code == 201, r.text
            return [s["id"] for s in r.json()["similar"]]

        assert first.json()["id"] in await similar_ids()  # 300 m: within 400, not 200
        assert first.json()["id"] not in await similar_ids(occurred_at="2024-05-14T09:30:00+07:00")
        dismissed = await client.post(
            f"/api/v1/incidents/{first.json()['id']}/transitions",
            json={"to": "dismissed", "reason": "not_a_violation"},
            headers=bearer(tokens.admin),
        )
        assert dismissed.status_code == 200, dismissed.text
        assert first.json()["id"] not in await similar_ids()


async def test_similar_reads_the_open_incidents_index(db: AsyncSession) -> None:
    """The similar-reports statement must repeat the open index's predicate, or PostgreSQL
    reads every settled incident near a new one (models.OPEN_STATUS_LIST_SQL). With the
    index of all incidents gone (in this rolled-back transaction) and sequential scans
    priced out, a plan that does not name the open index means it cannot use it. The
    statistics are taken first: without them (before autovacuum's first ANALYZE of the test
    database) the planner guessed the status index cheaper and the plan depended on timing.
    That index goes too: on the test database's few hundred rows a bitmap of the open
    states joined by category still came out cheaper now and then (a CI run of f662b3d),
    and it is no way to find what lies within 200 m."""
    await db.execute(text("ANALYZE incidents"))
    await db.execute(text("DROP INDEX ix_incidents_geog"))
    await db.execute(text("DROP INDEX ix_incidents_province_code_status"))
    await db.execute(text("SET LOCAL enable_seqscan = off"))
    sql = _similar_sql(SimilarSettings(), "TRUE").replace(":id", f"'{uuid.uuid4()}'")
    plan = "\n".join(r[0] for r in await db.execute(text(f"EXPLAIN {sql}")))
    assert "ix_incidents_open_geog" in plan, plan


@pytest.mark.parametrize(
    ("measure_all_at_most", "scan_min"),
    [(-1, 1), (-1, 1_000), (1_000_000, 1)],
    ids=["nearest-first, short scans", "nearest-first, whole circle", "measured whole"],
)
async def test_near_pages_are_the_nearest_whichever_way_they_are_found(
    client, db, tokens: Tokens, monkeypatch, measure_all_at_most: int, scan_min: int
) -> None:  # type: ignore[no-untyped-def]
    """A near page is found nearest first on the sphere, or by measuring every match on the
    spheroid (queries.list_incidents). The test database is small, so its statistics
    choose the second: the constants force each way. Every page, paged through with
    filters common and rare, holds exactly the incidents that measuring all of them on the
    spheroid gives, in that order."""
    monkeypatch.setattr("app.incidents.queries.NEAR_MEASURE_ALL_AT_MOST", measure_all_at_most)
    monkeypatch.setattr("app.incidents.queries.NEAR_SCAN_MIN", scan_min)
    monkeypatch.setattr("app.incidents.queries.NEAR_SCAN_PER_ROW", 2)
    tag = new_tag()
    centre = await off_line(client, tokens.admin, "1089+200", 30, "VN")
    items = []
    for k in range(36):
        # A spiral out to 1.4 km, every third a camera (the rare filter), two at the same place.
        lon, lat, _ = GEOD.fwd(*centre, (k * 67) % 360, 40.0 * k if k != 7 else 40.0 * 6)
        items.append(
            feature(
                geometry=point(lon, lat),
                tags=[tag],
                category="surveillance_equipment" if k % 3 == 0 else "fence",
            )
        )
    # Three the sphere orders the other way round: 1,500 m north is nearer than 1,502 and
    # 1,503.5 m east on the spheroid, farther than both on the sphere (whose radius is the
    # meridian's plus 0.4 % here, the prime vertical's less 0.2 %). Nearest first on the
    # sphere alone, or the sphere's (limit+1)-th without slack, would be wrong.
    north = GEOD.fwd(*centre, 0, 1_500.0)[:2]
    east = GEOD.fwd(*centre, 90, 1_503.5)[:2]
    items += [
        feature(geometry=point(*north), tags=[tag]),
        feature(geometry=point(*GEOD.fwd(*centre, 90, 1_502.0)[:2]), tags=[tag]),
        feature(geometry=point(*east), tags=[tag]),
    ]
    created = await client.post(
        "/api/v1/incidents:batch", json={"features": items}, headers=bearer(tokens.admin)
    )
    assert created.status_code == 200, created.text
    assert {x["result"] for x in created.json()["results"]} == {"created"}
    inverted = await db.execute(
        text(
            "SELECT ST_Distance(n, c) < ST_Distance(e, c) AND n <-> c > e <-> c FROM "
            "(SELECT ST_MakePoint(:nx, :ny)::geography n, ST_MakePoint(:ex, :ey)::geography e, "
            "ST_MakePoint(:cx, :cy)::geography c) p"
        ),
        {
            "nx": north[0],
            "ny": north[1],
            "ex": east[0],
            "ey": east[1],
            "cx": centre[0],
            "cy": centre[1],
        },
    )
    assert inverted.scalar_one()

    async def truth(radius: float, category: str | None) -> list[str]:
        rows = await db.execute(
            text(
                "SELECT id FROM incidents WHERE tags @> ARRAY[CAST(:tag AS varchar)] "
                "AND (CAST(:category AS text) IS NULL OR category = :category) "
                "AND ST_DWithin(geom::geography, ST_MakePoint(:lon, :lat)::geography, :r) "
                "ORDER BY ST_Distance(geom::geography, ST_MakePoint(:lon, :lat)::geography), id"
            ),
            {"tag": tag, "category": category, "lon": centre[0], "lat": centre[1], "r": radius},
        )
        return [str(r[0]) for r in rows]

    lon, lat = centre
    for radius in (500.0, 5_000.0):
        for category in (None, "surveillance_equipment"):
            for limit in (1, 4, 50):
                params = f"tag={tag}&near={lon},{lat}&within_m={radius}&limit={limit}"
                if category:
                    params += f"&category={category}"
                url: str | None = f"/api/v1/incidents?{params}"
                got: list[str] = []
                while url:
                    r = await client.get(url, headers=bearer(tokens.admin))
                    assert r.status_code == 200, r.text
                    body = r.json()
                    assert len(body["features"]) <= limit
                    got += [f["id"] for f in body["features"]]
                    url = next((x["href"] for x in body["links"] if x["rel"] == "next"), None)
                expected = await truth(radius, category)
                assert got == expected, (radius, category, limit)
                assert len(expected) >= 4  # each case has pages to turn
