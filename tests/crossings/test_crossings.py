"""Border gates and crossings: the demo against the reports' own words, the status on a
day, the API's scope and refusals, and the layer through OGC, tiles and exports."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.conftest import Tokens, bearer


async def _by_code(client, tokens: Tokens, **params: Any) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/crossings", params=params, headers=bearer(tokens.reporter))
    assert r.status_code == 200, r.text
    return {f["properties"]["code"]: f for f in r.json()["features"]}


async def test_the_demo_holds_the_gates_the_reports_name(client, tokens: Tokens) -> None:
    gates = await _by_code(client, tokens)
    names = {g["properties"]["name"] for g in gates.values()}
    # Lạng Sơn 2020 (I.5), Lạng Sơn 2024 (1.2), Cao Bằng 2023 (2.1, 2.2, III).
    for pair in [
        "Bình Nghi – Bình Nhi Quan", "Na Hình – Kéo Ái", "Hữu Nghị – Hữu Nghị Quan",
        "Tân Thanh – Pò Chài", "Tà Lùng – Thủy Khẩu", "Trà Lĩnh – Long Bang",
        "Bản Giốc – Đức Thiên", "Bản Khoòng – Nham Ứng", "Lý Vạn – Thạch Long",
        "Sóc Giang – Bình Mãng", "Nà Đổng – Nà Ráy",
    ]:  # fmt: skip
        assert pair in names
    # Where a report names the markers, the gate stands there and is not illustrative.
    assert gates["ban-khoong"]["properties"]["location"] == "VN-CN:853-854"
    assert gates["ban-khoong"]["properties"]["place_illustrative"] is False
    assert gates["na-hinh"]["properties"]["location"] == "VN-CN:1055-1056"
    assert gates["ban-gioc"]["properties"]["location"] == "VN-CN:834/1"
    # Where none does, the place is said to be illustrative.
    assert gates["binh-nghi"]["properties"]["place_illustrative"] is True
    # The lanes of Hữu Nghị belong to it.
    assert gates["coc-nam"]["properties"]["part_of"] == "huu-nghi"
    assert gates["coc-nam"]["properties"]["level"] == "clearance_lane"


async def test_binh_nghi_was_suspended_and_na_hinh_reopened_in_october_2020(
    client, tokens: Tokens
) -> None:
    """Lạng Sơn 2020, I.5: Guangxi had restored Na Hình – Kéo Ái, but not Bình Nghi – Bình
    Nhi Quan, whose official bilateral opening it had not agreed to."""
    on_report_day = await _by_code(client, tokens, open_on="2020-10-16")
    assert "na-hinh" in on_report_day
    assert on_report_day["na-hinh"]["properties"]["status_on"] == "reopened"
    assert "binh-nghi" not in on_report_day
    everything = await _by_code(client, tokens)
    assert everything["binh-nghi"]["properties"]["status"] == "suspended"
    assert everything["binh-nghi"]["properties"]["level"] == "secondary"
    # Before the report found them so, the service knows no status: none was open.
    assert await _by_code(client, tokens, open_on="2020-10-15", province="lang-son") == {}


async def test_range_finds_the_gates_on_a_stretch(client, tokens: Tokens) -> None:
    near = await _by_code(client, tokens, range="VN-CN:1088/2-1091", within_m=300)
    # The specialised road 1088/2-1089 and Tân Thanh at 1090-1091 lie on it; Kéo Ái does not.
    assert {"duong-chuyen-dung-1088", "tan-thanh"} <= set(near)
    assert "na-hinh" not in near


async def test_a_crossing_lists_its_history_and_what_concerns_it(client, tokens: Tokens) -> None:
    gates = await _by_code(client, tokens)
    r = await client.get(
        f"/api/v1/crossings/{gates['na-hinh']['id']}", headers=bearer(tokens.analyst)
    )
    assert r.status_code == 200
    props = r.json()["properties"]
    [change] = props["history"]
    assert change["status"] == "reopened" and change["dated_by"] == "report"
    assert change["document"]["number"] == "103/BC-SNgV"
    assert change["section"] == "I.5"
    [concern] = props["concerns"]
    assert concern["type"] == "incident" and "Kéo Ái" in concern["title"]


async def test_status_changes_are_dated_and_their_order_decides(client, db, tokens: Tokens) -> None:
    gates = await _by_code(client, tokens)
    binh_nghi = gates["binh-nghi"]["id"]
    url = f"/api/v1/crossings/{binh_nghi}/status"
    # Recorded after, but effective before the report: the report's state stays current.
    r = await client.post(
        url,
        json={"status": "open", "effective_on": "2019-06-01", "reason": "trước dịch"},
        headers=bearer(tokens.officer),
    )
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["status"] == "suspended"
    r = await client.post(
        url,
        json={"status": "upgraded", "level": "main", "effective_on": "2025-01-10"},
        headers=bearer(tokens.officer),
    )
    props = r.json()["properties"]
    assert (props["status"], props["level"]) == ("upgraded", "main")
    open_2019 = await _by_code(client, tokens, open_on="2019-07-01", province="lang-son")
    assert "binh-nghi" in open_2019
    assert "binh-nghi" not in await _by_code(client, tokens, open_on="2021-01-01")
    # The history is kept whole: three changes, and the database refuses rewriting one.
    kept = await db.execute(
        text("SELECT count(*) FROM crossing_status_changes WHERE crossing_id = :id"),
        {"id": binh_nghi},
    )
    assert kept.scalar_one() == 3
    with pytest.raises(DBAPIError, match="append-only"):
        async with db.begin_nested():
            await db.execute(
                text(
                    "UPDATE crossing_status_changes SET status = 'closed' WHERE crossing_id = :id"
                ),
                {"id": binh_nghi},
            )


async def test_only_officers_of_the_province_and_admins_write(client, tokens: Tokens) -> None:
    gates = await _by_code(client, tokens)
    change = {"status": "closed", "effective_on": "2024-01-01"}
    url = f"/api/v1/crossings/{gates['ta-lung']['id']}/status"
    for token, expected in [
        (tokens.reporter, 403),
        (tokens.analyst, 403),
        (tokens.officer, 403),  # Lạng Sơn's officer, a Cao Bằng gate
        (tokens.officer_other, 200),
    ]:
        r = await client.post(url, json=change, headers=bearer(token))
        assert r.status_code == expected, (token, r.text)
        if expected != 200:
            assert r.headers["content-type"] == "application/problem+json"


async def test_bad_input_is_refused_and_changes_nothing(client, db, tokens: Tokens) -> None:
    gates = await _by_code(client, tokens)
    before = (await db.execute(text("SELECT count(*) FROM crossing_status_changes"))).scalar_one()
    url = f"/api/v1/crossings/{gates['na-hinh']['id']}/status"
    for body in [
        {"status": "upgraded", "effective_on": "2024-01-01"},  # to which level?
        {"status": "ajar", "effective_on": "2024-01-01"},
        {"status": "open", "effective_on": "2024-01-01", "document_id": "0" * 8 + "-0000-0000-0000-" + "0" * 12},
    ]:  # fmt: skip
        r = await client.post(url, json=body, headers=bearer(tokens.officer))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
    after = (await db.execute(text("SELECT count(*) FROM crossing_status_changes"))).scalar_one()
    assert after == before
    # An unknown filter is refused, not ignored.
    r = await client.get("/api/v1/crossings?rnage=VN-CN:1042-1053/1", headers=bearer(tokens.admin))
    assert r.status_code == 422 and "rnage" in r.json()["detail"]
    r = await client.get("/api/v1/crossings/999999", headers=bearer(tokens.admin))
    assert r.status_code == 404


async def test_a_crossing_is_recorded_where_a_document_says(client, tokens: Tokens) -> None:
    body = {
        "code": "thu-nghiem",
        "border": "VN-CN",
        "name_vn": "Thử nghiệm",
        "name_other": "Thí điểm",
        "level": "opening",
        "location": "VN-CN:khu vực mốc 1090-1091",  # as a report writes it
        "province": "lang-son",
        "status": {"status": "planned", "effective_on": "2024-05-01"},
    }
    r = await client.post("/api/v1/crossings", json=body, headers=bearer(tokens.officer))
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/api/v1/crossings/{r.json()['id']}"
    props = r.json()["properties"]
    assert props["location"] == "VN-CN:1090-1091" and props["status"] == "planned"
    again = await client.post("/api/v1/crossings", json=body, headers=bearer(tokens.officer))
    assert again.status_code == 409
    elsewhere = {**body, "code": "khac", "province": "cao-bang"}
    r = await client.post("/api/v1/crossings", json=elsewhere, headers=bearer(tokens.officer))
    assert r.status_code == 403


async def test_the_layer_is_served_by_ogc_tiles_and_exports(client, tokens: Tokens) -> None:
    admin = bearer(tokens.admin)
    api = await _by_code(client, tokens)
    r = await client.get("/ogc/collections/crossings/items", params={"limit": 100}, headers=admin)
    assert r.status_code == 200
    ogc = {f["properties"]["code"] for f in r.json()["features"]}
    assert ogc == set(api)
    r = await client.get(
        "/ogc/collections/crossings/items",
        params={"filter": "status = 'suspended'"},
        headers=admin,
    )
    assert [f["properties"]["code"] for f in r.json()["features"]] == ["binh-nghi"]
    tilejson = (await client.get("/tiles/crossings.json", headers=admin)).json()
    assert tilejson["vector_layers"][0]["fields"]["status"] == "String"
    # Zoom 0's one tile holds every crossing.
    tile = await client.get("/tiles/crossings/0/0/0.mvt", headers=admin)
    assert tile.status_code == 200 and len(tile.content) > 100
    r = await client.get("/api/v1/exports/crossings", params={"format": "csv"}, headers=admin)
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert {row["code"] for row in rows} == set(api)
    assert {row["name"] for row in rows if row["code"] == "ta-lung"} == {"Tà Lùng – Thủy Khẩu"}
    kml = await client.get("/api/v1/exports/crossings", params={"format": "kml"}, headers=admin)
    assert kml.status_code == 200 and "Bình Nghi – Bình Nhi Quan" in kml.text
