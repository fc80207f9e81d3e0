"""Surveys of the line: Lạng Sơn 2020's survey under Đề án 1740 as the report counts it,
the river survey no longer a clearing work, and recording one through the API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.conftest import Tokens, bearer


async def _surveys(client, tokens: Tokens, **params: Any) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/surveys", params=params, headers=bearer(tokens.reporter))
    assert r.status_code == 200, r.text
    return {s["code"]: s for s in r.json()["surveys"]}


async def test_lang_son_2020_survey_as_the_report_counts_it(client, tokens: Tokens) -> None:
    """I.1.2: 57 + 07 terrain areas (MONRE), 01 river area at 1011-1012 (MARD), 13 areas at
    risk of landslide and 12 fences possibly in the sightline corridor (the Commission)."""
    surveys = await _surveys(client, tokens, province="lang-son", year=2020)
    found: dict[str, int] = {}
    for s in surveys.values():
        for finding, n in s["areas_by_finding"].items():
            found[finding] = found.get(finding, 0) + n
    assert found == {"terrain": 64, "river": 1, "landslide_risk": 13, "fence_in_sightline": 12}
    river = surveys["ls-1740-river"]
    assert river["led_by"] == "Bộ Nông nghiệp và PTNT" and river["scope"] == "unilateral"
    detail = await client.get(f"/api/v1/surveys/{river['id']}", headers=bearer(tokens.analyst))
    [area] = detail.json()["areas"]["features"]
    assert area["properties"]["location"] == "VN-CN:1011-1012"
    assert area["geometry"]["type"] == "LineString"
    assert await _surveys(client, tokens, province="lang-son", year=2021) == {}


async def test_the_river_survey_is_not_cleared_kilometres(client, tokens: Tokens) -> None:
    r = await client.get(
        "/api/v1/clearing-works",
        params={"range": "VN-CN:1011-1012", "limit": 500},
        headers=bearer(tokens.analyst),
    )
    assert r.status_code == 200
    assert [w["properties"]["range"] for w in r.json()["features"]] == []


async def test_recording_a_survey(client, db, tokens: Tokens) -> None:
    body = {
        "code": "khao-sat-thu",
        "border": "VN-CN",
        "title": "Khảo sát song phương hướng đi đường biên giới",
        "scope": "joint",
        "led_by": "Sở Ngoại vụ",
        "province": "lang-son",
        "started_on": "2024-04-02",
        "ended_on": "2024-04-03",
        "areas": [
            {"finding": "diverging_views", "location": "VN-CN:khu vực mốc 1090-1091",
             "views": "Hai bên nhận thức khác nhau về hướng đi của đường biên giới."},
            {"finding": "landslide_risk", "count": 3},
            {"finding": "other", "geometry": {"type": "Polygon", "coordinates": [[
                [106.70, 21.98], [106.71, 21.98], [106.71, 21.99], [106.70, 21.98]]]}},
        ],
    }  # fmt: skip
    before = (await db.execute(text("SELECT count(*) FROM survey_areas"))).scalar_one()
    for token, expected in [(tokens.reporter, 403), (tokens.officer_other, 403)]:
        r = await client.post("/api/v1/surveys", json=body, headers=bearer(token))
        assert r.status_code == expected, r.text
    bad = {**body, "areas": [{"finding": "river", "location": "VN-CN:1011-1012", "count": 2}]}
    r = await client.post("/api/v1/surveys", json=bad, headers=bearer(tokens.officer))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert (await db.execute(text("SELECT count(*) FROM survey_areas"))).scalar_one() == before
    r = await client.post("/api/v1/surveys", json=body, headers=bearer(tokens.officer))
    assert r.status_code == 201, r.text
    assert r.json()["areas_by_finding"] == {"diverging_views": 1, "landslide_risk": 3, "other": 1}
    again = await client.post("/api/v1/surveys", json=body, headers=bearer(tokens.officer))
    assert again.status_code == 409


async def test_placed_areas_are_a_layer(client, tokens: Tokens) -> None:
    """Only the river area at 1011-1012 has a place: the other 89 are counted, not drawn."""
    admin = bearer(tokens.admin)
    r = await client.get(
        "/ogc/collections/survey-areas/items",
        params={"filter": "survey = 'ls-1740-river'", "count": "true"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert r.json()["numberMatched"] == 1
    [area] = r.json()["features"]
    assert area["properties"]["finding"] == "river"
    assert area["properties"]["location"] == "VN-CN:1011-1012"
    unplaced = await client.get(
        "/ogc/collections/survey-areas/items",
        params={"filter": "finding = 'landslide_risk'", "count": "true"},
        headers=admin,
    )
    assert unplaced.json()["numberMatched"] == 0
    csv_export = await client.get(
        "/api/v1/exports/survey-areas", params={"format": "csv"}, headers=admin
    )
    assert csv_export.status_code == 200 and "VN-CN:1011-1012" in csv_export.text


async def test_range_finds_the_surveys_with_an_area_on_a_stretch(client, tokens: Tokens) -> None:
    """The river survey's one placed area is at 1011-1012 (Lạng Sơn 2020, I.1.2); surveys
    whose areas the report does not place are found by no stretch."""
    near = await _surveys(client, tokens, range="VN-CN:1011-1012")
    assert "ls-1740-river" in near and "ls-1740-terrain" not in near
    assert "ls-1740-river" not in await _surveys(client, tokens, range="VN-CN:1100-1105")
