"""Patrols: a route walked, markers checked (each an inspection), incidents reported; the
summary per unit and month; the stretches not walked; scope and refusals."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature

UNIT = "Đồn Biên phòng thử nghiệm"


def _patrol(**changes: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()), "unit": UNIT, "province": "lang-son", "border": "VN-CN",
        "started_at": "2024-06-03T07:00:00+07:00", "ended_at": "2024-06-03T15:30:00+07:00",
        "route": "VN-CN:1088/2-1091",
        "checked": [{"marker": "1089", "condition": "intact"},
                    {"marker": "mốc 1090", "condition": "damaged", "notes": "sứt góc"}],
        **changes,
    }  # fmt: skip


async def test_a_patrol_walks_checks_and_reports(client, tokens: Tokens) -> None:
    officer, analyst = bearer(tokens.officer), bearer(tokens.analyst)
    incident = await client.post(
        "/api/v1/incidents", json=feature(location="VN-CN:1090+50"), headers=officer
    )
    body = _patrol(incident_ids=[incident.json()["id"]])
    r = await client.post("/api/v1/patrols", json=body, headers=officer)
    assert r.status_code == 201, r.text
    again = await client.post("/api/v1/patrols", json=body, headers=officer)
    assert again.status_code == 200 and again.json()["result"] == "duplicate"

    marker = (await client.get("/api/v1/borders/VN-CN/markers/1090", headers=analyst)).json()
    assert marker["properties"]["condition"] == "damaged"
    assert marker["properties"]["last_inspected_on"] == "2024-06-03"

    patrols = (await client.get("/api/v1/patrols", params={"unit": UNIT}, headers=analyst)).json()[
        "features"
    ]
    [walked] = [p["properties"] for p in patrols]
    assert walked["markers_checked"] == 2
    assert walked["incident_ids"] == [incident.json()["id"]]
    # Oracle: the stretch's own length, as the chainage endpoint resolves it.
    stretch = (
        await client.get("/api/v1/chainage", params={"ref": "VN-CN:1088/2-1091"}, headers=analyst)
    ).json()["properties"]
    assert abs(walked["length_km"] * 1000 - stretch["length_m"]) < 1.0

    rows = (
        await client.get("/api/v1/reports/patrols", params={"unit": UNIT}, headers=analyst)
    ).json()["rows"]
    assert rows == [{"unit": UNIT, "province": "lang-son", "month": "2024-06", "patrols": 1,
                     "km": round(walked["length_km"], 3), "markers_checked": 2}]  # fmt: skip


async def test_the_stretches_not_walked(client, tokens: Tokens) -> None:
    officer = bearer(tokens.officer)
    r = await client.post("/api/v1/patrols", json=_patrol(checked=[]), headers=officer)
    assert r.status_code == 201, r.text
    params = {"days": 30, "on": "2024-06-20", "province": "lang-son"}
    found = (
        await client.get("/api/v1/segments/not-patrolled", params=params, headers=officer)
    ).json()["segments"]
    refs = {s["ref"] for s in found}
    assert "1089-1090" not in refs and "1116-1117" in refs
    later = {**params, "on": "2024-08-20"}  # more than 30 days after: not walked again
    found = (
        await client.get("/api/v1/segments/not-patrolled", params=later, headers=officer)
    ).json()["segments"]
    walked = next(s for s in found if s["ref"] == "1089-1090")
    assert walked["last_walked_on"] == "2024-06-03"


async def test_scope_and_refusals(client, db, tokens: Tokens) -> None:
    officer = bearer(tokens.officer)
    body = _patrol()
    assert (await client.post("/api/v1/patrols", json=body, headers=officer)).status_code == 201
    outsider = bearer(tokens.officer_other)
    mine = await client.get("/api/v1/patrols", params={"unit": UNIT}, headers=outsider)
    assert mine.json()["features"] == []
    ogc = await client.get(
        "/ogc/collections/patrols/items", params={"filter": f"unit = '{UNIT}'", "count": "true"},
        headers=outsider,
    )  # fmt: skip
    assert ogc.json()["numberMatched"] == 0
    before = (await db.execute(text("SELECT count(*) FROM patrols"))).scalar_one()
    for token, bad, status in [
        (tokens.reporter, _patrol(), 403),
        (tokens.officer_other, _patrol(), 403),  # a Lạng Sơn patrol
        (tokens.officer, _patrol(track={"type": "LineString",
                                        "coordinates": [[106.7, 21.98], [106.71, 21.99]]}), 422),
        (tokens.officer, _patrol(route=None, track={"type": "LineString",
                                 "coordinates": [[105.0, 20.0], [105.1, 20.1]]}), 422),
        (tokens.officer, _patrol(incident_ids=[str(uuid.uuid4())]), 422),
        (tokens.officer, _patrol(ended_at="2024-06-02T07:00:00+07:00"), 422),
    ]:  # fmt: skip
        r = await client.post("/api/v1/patrols", json=bad, headers=bearer(token))
        assert r.status_code == status, r.text
        assert r.headers["content-type"] == "application/problem+json"
    assert (await db.execute(text("SELECT count(*) FROM patrols"))).scalar_one() == before


async def test_range_finds_the_patrols_on_a_stretch(client, tokens: Tokens) -> None:
    officer = bearer(tokens.officer)
    body = _patrol()
    assert (await client.post("/api/v1/patrols", json=body, headers=officer)).status_code == 201

    async def found(ref: str) -> set[str]:
        r = await client.get(
            "/api/v1/patrols", params={"range": ref, "unit": UNIT}, headers=officer
        )
        assert r.status_code == 200, r.text
        return {f["id"] for f in r.json()["features"]}

    assert body["id"] in await found("VN-CN:1089-1090")
    assert body["id"] not in await found("VN-CN:1120-1125")
    r = await client.get("/api/v1/patrols", params={"range": "1089-1090"}, headers=officer)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "range"


async def test_a_patrol_names_its_station_from_the_register(client, tokens: Tokens) -> None:
    officer = bearer(tokens.officer)
    body = {**_patrol(station="don-bp-tan-thanh"), "id": str(uuid.uuid4())}
    del body["unit"]
    r = await client.post("/api/v1/patrols", json=body, headers=officer)
    assert r.status_code == 201, r.text
    found = await client.get(
        "/api/v1/patrols", params={"unit": "Đồn Biên phòng Tân Thanh"}, headers=officer
    )
    [walked] = [f["properties"] for f in found.json()["features"] if f["id"] == body["id"]]
    assert walked["station"] == "don-bp-tan-thanh"
    for station, words in (("don-bp-nowhere", "no station"), ("lang-son", "no station")):
        bad = {**body, "id": str(uuid.uuid4()), "station": station}
        r = await client.post("/api/v1/patrols", json=bad, headers=officer)
        assert r.status_code == 422 and words in r.json()["detail"], r.text
        assert r.json()["errors"][0]["field"] == "station"
    elsewhere = {**body, "id": str(uuid.uuid4()), "province": "cao-bang"}
    r = await client.post("/api/v1/patrols", json=elsewhere, headers=bearer(tokens.admin))
    assert r.status_code == 422 and "is in lang-son, not cao-bang" in r.json()["detail"]
    nameless = {k: v for k, v in body.items() if k != "station"} | {"id": str(uuid.uuid4())}
    r = await client.post("/api/v1/patrols", json=nameless, headers=officer)
    assert r.status_code == 422 and "unit or its station" in r.text
