"""The records' share of the per-district summary: inspections, patrols and gates counted
in the unit the placement rule puts them in, against the reports and the records' own
endpoints."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature


async def _tables(client, tokens: Tokens, **params: str) -> dict[str, list[dict[str, Any]]]:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/reports/districts", params=params, headers=bearer(tokens.analyst))
    assert r.status_code == 200, r.text
    tables: dict[str, list[dict[str, Any]]] = r.json()["tables"]
    return tables


async def test_cao_bangs_landslide_risks_are_counted_in_its_districts(
    client, tokens: Tokens
) -> None:
    """Cao Bằng 2023: landslide risk at 556/1-556/2, 560-561 and 836(2): five markers."""
    tables = await _tables(client, tokens, **{"from": "2022-01-01", "to": "2022-12-31"})
    at_risk = [r for r in tables["inspections_by_condition"] if r["condition"] == "at_risk"]
    assert sum(r["inspections"] for r in at_risk) == 5
    districts = {r["unit"]: r for r in tables["summary"]}
    # Each in a Cao Bằng district valid in 2022, named.
    for row in at_risk:
        assert districts[row["unit"]]["level"] == "district"
        assert districts[row["unit"]]["province"] == "cao-bang"
        assert row["unit_name"] == districts[row["unit"]]["unit_name"]


async def test_gates_open_at_the_end_of_2020_match_the_gates_register(
    client, tokens: Tokens
) -> None:
    tables = await _tables(
        client, tokens, **{"from": "2020-01-01", "to": "2020-12-31", "province": "lang-son"}
    )
    rows = tables["crossings"]
    r = await client.get(
        "/api/v1/crossings",
        params={"province": "lang-son", "open_on": "2020-12-31"},
        headers=bearer(tokens.analyst),
    )
    assert sum(row["open_at_end"] for row in rows) == len(r.json()["features"])
    every = await client.get(
        "/api/v1/crossings", params={"province": "lang-son"}, headers=bearer(tokens.analyst)
    )
    assert sum(row["crossings"] for row in rows) == len(every.json()["features"])
    # Bình Nghi's suspension on 16/10/2020 (Lạng Sơn 2020) is one of the year's changes.
    assert sum(row["status_changes"] for row in rows) >= 1


async def test_a_patrol_counts_in_the_district_it_walked(client, tokens: Tokens) -> None:
    body = {
        "id": str(uuid.uuid4()), "unit": "Đồn Biên phòng Tân Thanh", "province": "lang-son",
        "border": "VN-CN", "started_at": "2023-03-03T07:00:00+07:00",
        "ended_at": "2023-03-03T15:00:00+07:00", "route": "VN-CN:1088/2-1091",
        "checked": [{"marker": "1089", "condition": "intact"}],
    }  # fmt: skip
    r = await client.post("/api/v1/patrols", json=body, headers=bearer(tokens.officer))
    assert r.status_code == 201, r.text
    patrols = await client.get(
        "/api/v1/patrols", params={"unit": body["unit"]}, headers=bearer(tokens.analyst)
    )
    [walked] = [f["properties"] for f in patrols.json()["features"]]
    # The district an incident on the same stretch that day is placed in.
    incident = await client.post(
        "/api/v1/incidents",
        json=feature(location="VN-CN:1090", occurred_at="2023-03-03T09:00:00+07:00"),
        headers=bearer(tokens.officer),
    )
    assert incident.status_code == 201, incident.text
    tables = await _tables(
        client, tokens, **{"from": "2023-03-01", "to": "2023-03-31", "province": "lang-son"}
    )
    [row] = tables["patrols"]
    assert row["unit"] == incident.json()["properties"]["district"] == "van-lang"
    assert (row["patrols"], row["markers_checked"]) == (1, 1)
    assert abs(row["km"] - walked["length_km"]) < 0.001


async def test_lang_son_2020s_survey_and_marker_1163_are_in_its_summary(
    client, tokens: Tokens
) -> None:
    """Lạng Sơn 2020 (I.1.2): 13 areas at risk of landslide and 12 fences possibly in the
    sightline corridor, the report placing none of them; the line at 1163 under talks."""
    tables = await _tables(
        client, tokens, **{"from": "2020-01-01", "to": "2020-12-31", "province": "lang-son"}
    )
    by_finding: dict[str, int] = {}
    for row in tables["survey_areas"]:
        by_finding[row["finding"]] = by_finding.get(row["finding"], 0) + row["areas"]
    assert by_finding["landslide_risk"] == 13 and by_finding["fence_in_sightline"] == 12
    assert by_finding["river"] == 1
    [river] = [r for r in tables["survey_areas"] if r["finding"] == "river"]
    assert river["placed"] == 1 and river["unit"] != "lang-son"  # placed: in its district
    disputed = tables["disputed_areas"]
    assert sum(r["outstanding_at_end"] for r in disputed) == 1
    assert sum(r["settled"] for r in disputed) == 0
    before = await _tables(
        client, tokens, **{"from": "2019-01-01", "to": "2019-12-31", "province": "lang-son"}
    )
    assert before["disputed_areas"] == []  # raised by the note of 10/9/2020
