"""Marker inspections and repairs: the reports' facts (615 repaired by Nà Po, landslide
risk at 556/1-556/2, 560-561 and 836(2), 821's restoration proposed by China), the marker's
condition following its latest inspection, counts as of a day, scope and refusals."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from tests.conftest import Tokens, bearer


async def _marker(client, tokens: Tokens, code: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.get(f"/api/v1/borders/VN-CN/markers/{code}", headers=bearer(tokens.analyst))
    assert r.status_code == 200, r.text
    return r.json()["properties"]  # type: ignore[no-any-return]


async def test_the_reports_repairs_and_risks(client, tokens: Tokens) -> None:
    analyst = bearer(tokens.analyst)
    r = await client.get(
        "/api/v1/repairs", params={"province": "cao-bang", "year": 2022}, headers=analyst
    )
    [repair] = [f["properties"] for f in r.json()["features"]]
    assert (repair["marker"], repair["kind"], repair["side"], repair["status"]) == (
        "615", "repair", "other", "done"
    )  # fmt: skip
    planned = await client.get("/api/v1/repairs", params={"marker": "821"}, headers=analyst)
    [restoration] = [f["properties"] for f in planned.json()["features"]]
    assert (restoration["kind"], restoration["status"]) == ("restoration", "planned")
    for code in ("556/1", "556/2", "560", "561", "836(2)"):
        assert (await _marker(client, tokens, code))["condition"] == "at_risk"
    assert (await _marker(client, tokens, "615"))["condition"] == "intact"


async def test_conditions_as_of_a_day_follow_the_inspections(client, tokens: Tokens) -> None:
    analyst = bearer(tokens.analyst)
    inspections = (
        await client.get("/api/v1/inspections", params={"province": "cao-bang"}, headers=analyst)
    ).json()["features"]
    at_risk_by = sorted(f["properties"]["inspected_on"] for f in inspections)
    assert len(at_risk_by) == 5
    before, on = "2022-07-14", at_risk_by[0]

    async def counts(day: str) -> dict[str, int]:
        r = await client.get(
            "/api/v1/reports/marker-conditions",
            params={"on": day, "province": "cao-bang"},
            headers=analyst,
        )
        assert r.status_code == 200, r.text
        return r.json()["by_condition"]  # type: ignore[no-any-return]

    assert "at_risk" not in await counts(before)
    assert (await counts(on))["at_risk"] == 5
    assert sum((await counts(on)).values()) == sum((await counts(before)).values())


async def test_the_latest_inspection_decides_and_a_retry_is_safe(
    client, db, tokens: Tokens
) -> None:
    officer = bearer(tokens.officer_other)  # Cao Bằng
    found = {
        "id": str(uuid.uuid4()), "border": "VN-CN", "marker": "mốc 836(2)",
        "inspected_on": "2023-11-02", "condition": "damaged", "unit": "Đồn Biên phòng",
        "joint": True, "other_side_participants": "Trạm biên phòng phía Trung Quốc",
    }  # fmt: skip
    r = await client.post("/api/v1/inspections", json=found, headers=officer)
    assert r.status_code == 201, r.text
    again = await client.post("/api/v1/inspections", json=found, headers=officer)
    assert again.status_code == 200 and again.json()["result"] == "duplicate"
    older = {**found, "id": str(uuid.uuid4()), "inspected_on": "2021-01-05", "condition": "intact"}
    assert (
        await client.post("/api/v1/inspections", json=older, headers=officer)
    ).status_code == 201
    marker = await _marker(client, tokens, "836(2)")
    assert (marker["condition"], marker["last_inspected_on"]) == ("damaged", "2023-11-02")
    count = await db.execute(
        text(
            "SELECT count(*) FROM marker_inspections x JOIN markers m ON m.id = x.marker_id "
            "WHERE m.code = '836(2)'"
        )
    )
    assert count.scalar_one() == 3  # the report's, and the two new ones


async def test_writes_are_for_the_markers_province_and_bad_input_changes_nothing(
    client, db, tokens: Tokens
) -> None:
    before = (await db.execute(text("SELECT count(*) FROM marker_repairs"))).scalar_one()
    repair = {"border": "VN-CN", "marker": "615", "kind": "repair", "side": "vn",
              "status": "planned", "planned_on": "2025-03-01"}  # fmt: skip
    for token, expected in [
        (tokens.reporter, 403),
        (tokens.analyst, 403),
        (tokens.officer, 403),  # Lạng Sơn's officer, a Cao Bằng marker
    ]:
        r = await client.post("/api/v1/repairs", json=repair, headers=bearer(token))
        assert r.status_code == expected, r.text
        assert r.headers["content-type"] == "application/problem+json"
    for bad in [
        {**repair, "status": "done"},  # done, but when?
        {**repair, "marker": "99999"},
        {**repair, "marker": "mốc"},
        {**repair, "side": "both"},
    ]:
        r = await client.post("/api/v1/repairs", json=bad, headers=bearer(tokens.officer_other))
        assert r.status_code == 422, (bad, r.text)
    after = (await db.execute(text("SELECT count(*) FROM marker_repairs"))).scalar_one()
    assert after == before
    r = await client.post("/api/v1/repairs", json=repair, headers=bearer(tokens.officer_other))
    assert r.status_code == 201
