"""The demo data against the five seed reports, by name: the province's report view
(/api/v1/reports/provinces/{province}/{year}) must say what the report says, and the
demo must not claim what the report does not (a breach, an approval, a settlement).

Each number below is quoted from its report (seeds/, Vietnamese); the quote is kept
beside it so a reader can check it against the source."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook

from seed.incidents import incident_id
from tests.conftest import Tokens, bearer

# Lạng Sơn 2020, Báo cáo số 103/BC-SNgV, I.1.2
LS_2020_SETTLED = "giải quyết ổn thỏa và dứt điểm **16** vụ việc phát sinh trên biên giới"
LS_2020_MINISTRY = "báo cáo, đề xuất Bộ Ngoại giao chỉ đạo giải quyết 08 vụ việc vi phạm Hiệp định"
LS_2020_STRETCHES = "1042-1053/1, 1173-1183, 1248+470-1253, 1253-1275"


def number_in(quote: str) -> int:
    return int(re.search(r"\*{0,2}(\d+)\*{0,2} vụ việc", quote).group(1))  # type: ignore[union-attr]


async def report(client, tokens: Tokens, province: str, year: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.get(
        f"/api/v1/reports/provinces/{province}/{year}", headers=bearer(tokens.analyst)
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def case(body: dict[str, Any], key: str) -> dict[str, Any]:
    return next(c for c in body["cases"] if c["id"] == str(incident_id(key)))


async def test_lang_son_2020(client, tokens: Tokens) -> None:
    body = await report(client, tokens, "lang-son", 2020)
    # I.5: Guangxi restored Na Hình – Kéo Ái, not Bình Nghi – Bình Nhi Quan.
    gates = {g["code"]: g for g in body["gates"]["crossings"]}
    assert gates["na-hinh"]["status_at_end"] == "reopened"
    assert gates["binh-nghi"]["status_at_end"] == "suspended"
    assert body["gates"]["open_at_end"] == 1  # the only gate the report finds open
    events = body["events"]
    assert events["settled"]["count"] == number_in(LS_2020_SETTLED) == 16
    assert events["reported_to_ministry"]["count"] == number_in(LS_2020_MINISTRY) == 8
    # The report names five of the eight (three fences, the trench, the clearing along the
    # fence); the other three stand for the rest of the total, and say so.
    assert events["reported_to_ministry"]["illustrative"] == 3
    assert events["settled"]["illustrative"] == 16
    # The Pò Chài control house, Kéo Ái and the railway to 1122: reported to the
    # Joint Committee's Vietnamese section, not to the Ministry.
    assert events["referred_to_joint_committee"]["count"] == 3
    # Notes to Guangxi on the flycam, the cameras, marker 1163 and Pò Chài: one each,
    # their numbers and dates illustrative.
    assert events["notes_sent"] == {"count": 4, "illustrative": 4}
    # Each settled case: district talks, then the agreement that settled it.
    assert events["talks"]["count"] == events["agreements"]["count"] == 16
    for key in ("flycam-1090", "cameras-1113", "dispute-1163"):
        assert case(body, key)["status"] == "in_negotiation"
    # Requests for approval by the Chinese side: pending, and no breach.
    theirs = body["approvals"]["requested_by_other_side"]
    assert theirs["submitted"]["count"] == 2 and theirs["pending"]["count"] == 2
    assert theirs["approved"]["count"] == 0
    for key in ("works-1090", "railway-1122"):
        assert case(body, key)["nature"] == "approval_request"
        assert case(body, key)["articles"] == ""
    # Re-clearing and maintenance clearing of the four stretches, not told apart.
    cleared = body["clearing"]["completed_km_by_kind"]
    assert [k["kind"] for k in cleared] == ["re_or_maintenance_clearing"]
    assert cleared[0]["works"] == len(LS_2020_STRETCHES.split(", "))
    assert cleared[0]["completed_km"] > 20
    citations = [d["citation"] for d in body["documents"]]
    assert "Báo cáo số 103/BC-SNgV ngày 16/10/2020" in citations
    # The per-district summary agrees (it said 0 resolved before the demo was rebuilt).
    districts = await client.get(
        "/api/v1/reports/districts",
        params={"from": "2020-01-01", "to": "2020-12-31", "province": "lang-son"},
        headers=bearer(tokens.analyst),
    )
    summary = districts.json()["tables"]["summary"]
    assert sum(row["resolved"] for row in summary) == 16
    assert sum(row["opened"] for row in summary) == events["opened"]["count"]


async def test_lang_son_2021(client, tokens: Tokens) -> None:
    # The 2021 working session reports no border event and no number of cases: the demo
    # invents none for it.
    events = (await report(client, tokens, "lang-son", 2021))["events"]
    assert events["opened"]["count"] == 0
    assert events["settled"]["count"] == 0
    assert events["reported_to_ministry"]["count"] == 0


async def test_lang_son_2024(client, tokens: Tokens) -> None:
    # "trình Chính phủ phê duyệt mở chính thức các lối thông quan Cốc Nam, Tân Thanh"
    body = await report(client, tokens, "lang-son", 2024)
    ours = body["approvals"]["requested_by_vn"]
    assert ours["submitted"]["count"] == 2 and ours["pending"]["count"] == 2
    titles = {a["work_title"] for a in body["approval_requests"]}
    assert any("Cốc Nam" in t for t in titles) and any("Tân Thanh" in t for t in titles)
    # The lanes' opening "trình Chính phủ phê duyệt": planned, as of the notice's day.
    gates = {g["code"]: g for g in body["gates"]["crossings"]}
    assert gates["coc-nam"]["status_at_end"] == gates["tan-thanh"]["status_at_end"] == "planned"
    assert "2024-03-26" in gates["coc-nam"]["changes_in_year"]


async def test_cao_bang_2022_and_2023(client, tokens: Tokens) -> None:
    # 2021-2022: marker 615 repaired by Nà Po; the embankments at 556/1-556/2, 560-561
    # and 836(2) "trình phê chuẩn" (submitted, not approved); Chinese fences reported to
    # the National Boundary Commission and surveyed jointly.
    y2022 = await report(client, tokens, "cao-bang", 2022)
    assert y2022["markers"]["repaired"]["count"] == 1
    assert y2022["markers"]["repairs_done"]["count"] == 1  # the repair record of 615
    assert y2022["markers"]["by_condition_at_end"]["at_risk"] == 5  # 556/1-2, 560-1, 836(2)
    ours = y2022["approvals"]["requested_by_vn"]
    assert ours["submitted"]["count"] == 3 and ours["pending"]["count"] == 3
    assert ours["approved"]["count"] == 0
    assert y2022["events"]["reported_to_ministry"]["count"] == 5
    assert y2022["events"]["joint_verifications"]["count"] == 1
    embankment = str(incident_id("clearing:embank-556"))
    work = (
        await client.get(f"/api/v1/clearing-works/{embankment}", headers=bearer(tokens.analyst))
    ).json()
    assert [a["status"] for a in work["approvals"]] == ["submitted"]
    assert work["properties"]["approval"]["body"] is None  # no invented approver
    # Q1/2023 and the year: marker 821 raised by the other side, fires, works at 853-854.
    y2023 = await report(client, tokens, "cao-bang", 2023)
    assert case(y2023, "restore-821")["status"] == "in_negotiation"
    assert y2023["events"]["notes_received"]["count"] == 1
    assert case(y2023, "works-853")["status"] == "monitoring"
    for key in ("fire-baolac", "fire-trungkhanh"):
        fire = case(y2023, key)
        assert fire["nature"] == "natural_event"
        assert "Art. 15(5)" not in fire["articles"]
    assert y2023["events"]["settled"]["count"] == 0  # the report settles none in 2023


async def test_ha_tinh_2022(client, tokens: Tokens) -> None:
    # Information exchanges with Bolikhamxay and Khammouane, an auxiliary gate reopened:
    # no border event, no approval.
    body = await report(client, tokens, "ha-tinh", 2022)
    assert body["events"]["opened"]["count"] == 0
    assert body["approval_requests"] == []
    assert body["province_name"] == "Hà Tĩnh"


async def test_a_wildfire_is_not_burning_to_clear_land(client, tokens: Tokens) -> None:
    fire = str(incident_id("fire-baolac"))
    r = await client.get(f"/api/v1/incidents/{fire}/breaches", headers=bearer(tokens.analyst))
    assert r.status_code == 200, r.text
    rule = next(x for x in r.json()["rules"] if x["article"] == "Art. 15(5)")
    assert rule["suggested"] is False
    assert "natural event" in rule["why"]
    fence = str(incident_id("fence-1116"))
    r = await client.get(f"/api/v1/incidents/{fence}/breaches", headers=bearer(tokens.analyst))
    suggested = [x for x in r.json()["rules"] if x["suggested"]]
    assert "Art. 7(3)" in {x["article"] for x in suggested}
    assert all("fence act inside" in x["why"] for x in suggested)


async def test_every_demo_record_names_its_source(db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    unsourced = await db.execute(
        text(
            "SELECT i.title FROM incidents i WHERE NOT EXISTS (SELECT 1 FROM document_links l "
            "WHERE l.target_type = 'incident' AND l.target_id = i.id::text "
            "AND l.section IS NOT NULL)"
        )
    )
    assert unsourced.all() == []
    works = await db.execute(
        text(
            "SELECT w.range_ref FROM clearing_works w WHERE NOT EXISTS (SELECT 1 FROM "
            "document_links l WHERE l.target_type = 'clearing_work' "
            "AND l.target_id = w.id::text)"
        )
    )
    assert works.all() == []
    # An invented date says so: every step of the demo is dated by its report or marked.
    undated = await db.execute(
        text("SELECT count(*) FROM incidents WHERE NOT ('illustrative_date' = ANY(tags))")
    )
    assert undated.scalar_one() == 0
    # History is stamped with the day a change happened, not the day the demo was loaded.
    stamped = await db.execute(
        text(
            "SELECT count(*) FROM incident_history WHERE action = 'transition' "
            "AND effective_at IS NULL"
        )
    )
    assert stamped.scalar_one() == 0


@pytest.mark.parametrize("province, year", [("lang-son", 2020), ("cao-bang", 2022)])
async def test_report_view_as_xlsx_and_html(
    client, tokens: Tokens, province: str, year: int
) -> None:
    base = f"/api/v1/reports/provinces/{province}/{year}"
    body = await report(client, tokens, province, year)
    r = await client.get(base, params={"format": "xlsx"}, headers=bearer(tokens.analyst))
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == [
        "summary", "cases", "steps", "approvals", "clearing_works", "gates", "documents"
    ]  # fmt: skip
    assert book["steps"].max_row == len(body["steps"]) + 1 > 1
    rows = {
        (row[0], row[1]): row[2] for row in book["summary"].iter_rows(min_row=2, values_only=True)
    }
    assert rows[("events", "settled")] == body["events"]["settled"]["count"]
    assert (
        rows[("events", "reported_to_ministry")] == body["events"]["reported_to_ministry"]["count"]
    )
    assert book["cases"].max_row == len(body["cases"]) + 1
    html = await client.get(base, params={"format": "html"}, headers=bearer(tokens.analyst))
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert f"năm {year}" in html.text and "Giải quyết ổn thỏa, dứt điểm" in html.text


async def test_report_view_is_scoped_like_the_summary(client, tokens: Tokens) -> None:
    other = await client.get(
        "/api/v1/reports/provinces/cao-bang/2022", headers=bearer(tokens.officer)
    )
    assert other.status_code == 403
    assert other.headers["content-type"].startswith("application/problem+json")
    unknown = await client.get(
        "/api/v1/reports/provinces/nowhere/2022", headers=bearer(tokens.analyst)
    )
    assert unknown.status_code == 404


async def test_requests_for_approval_as_an_ogc_collection(client, tokens: Tokens) -> None:
    """Where each work would stand: Pò Chài between markers 1090 and 1091, the embankment
    at 836(2); the gate-only requests (Cốc Nam, Tân Thanh) have no place and no feature."""
    page = (
        await client.get(
            "/ogc/collections/approvals/items", params={"limit": 100, "count": "true"},
            headers=bearer(tokens.analyst),
        )
    ).json()  # fmt: skip
    by_title = {f["properties"]["work_title"]: f for f in page["features"]}
    assert page["numberMatched"] == len(by_title) == 5
    assert {f["geometry"]["type"] for f in by_title.values()} == {"Point"}
    pochai = next(f for t, f in by_title.items() if "Pò Chài" in t)
    markers = {}
    for code in ("1090", "1091"):
        m = await client.get(
            f"/api/v1/borders/VN-CN/markers/{code}", headers=bearer(tokens.analyst)
        )
        markers[code] = m.json()["geometry"]["coordinates"]
    here = pochai["geometry"]["coordinates"]
    for axis in (0, 1):  # inside the two markers' box, give or take a kilometre
        low, high = sorted((markers["1090"][axis], markers["1091"][axis]))
        assert low - 0.01 < here[axis] < high + 0.01
    assert pochai["properties"]["status"] == "forwarded"
    assert pochai["properties"]["incident_id"] == str(incident_id("works-1090"))
    mine = (
        await client.get("/ogc/collections/approvals/items", headers=bearer(tokens.officer_other))
    ).json()
    assert {f["properties"]["province"] for f in mine["features"]} == {"cao-bang"}
