"""The per-district summary on a hand-made year (2010, before any demo event) whose answers
are known; CSV and XLSX read back with real readers."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature, off_line, point

PERIOD = {"from": "2010-01-01", "to": "2010-12-31"}


@pytest.fixture
async def year_2010(client, db, tokens: Tokens) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    here = point(*(await off_line(client, tokens.admin, "1089+300", 20, "VN")))  # Văn Lãng
    there = point(*(await off_line(client, tokens.admin, "790+500", 300, "VN")))  # Trùng Khánh
    specs = {
        "A": (here, "fence", "2010-01-10T09:00:00+07:00"),
        "B": (here, "fence", "2010-02-01T09:00:00+07:00"),
        "C": (here, "construction", "2010-03-05T09:00:00+07:00"),
        "D": (here, "surveillance_equipment", "2010-12-31T23:30:00+07:00"),  # last local day
        "E": (here, "fence", "2011-01-01T00:30:00+07:00"),  # already 2011 in Vietnam
        "F": (there, "fire", "2010-06-01T09:00:00+07:00"),
    }
    ids = {}
    for name, (geometry, category, when) in specs.items():
        r = await client.post(
            "/api/v1/incidents",
            json=feature(geometry=geometry, category=category, occurred_at=when),
            headers=bearer(tokens.admin),
        )
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    for name, days in (("A", 10), ("B", 30)):
        for step in ("verified", "resolved"):
            await client.post(
                f"/api/v1/incidents/{ids[name]}/transitions",
                json={"to": step},
                headers=bearer(tokens.admin),
            )
        await db.execute(
            text(
                "UPDATE incidents SET resolved_at = occurred_at + make_interval(days => :d) WHERE id = :i"
            ),
            {"d": days, "i": ids[name]},
        )
    await client.post(
        f"/api/v1/incidents/{ids['F']}/transitions",
        json={"to": "dismissed", "reason": "not_a_violation"},
        headers=bearer(tokens.admin),
    )
    await db.execute(
        text("UPDATE incidents SET updated_at = '2010-06-10' WHERE id = :i"), {"i": ids["F"]}
    )
    work = await client.post(
        "/api/v1/clearing-works",
        json={"range": "VN-CN:1090-1092", "kind": "re_clearing", "planned_start": "2010-04-01"},
        headers=bearer(tokens.admin),
    )
    await client.post(
        f"/api/v1/clearing-works/{work.json()['id']}/completions",
        json={"range": "1090-1091", "completed_on": "2010-05-01"},
        headers=bearer(tokens.admin),
    )
    await db.execute(text("UPDATE markers SET condition = 'damaged' WHERE code = '1089'"))
    lengths = {}
    for ref in ("1090-1092", "1090-1091"):
        r = await client.get(
            "/api/v1/chainage", params={"ref": f"VN-CN:{ref}"}, headers=bearer(tokens.admin)
        )
        lengths[ref] = r.json()["properties"]["length_m"]
    return {"ids": ids, "lengths": lengths}


async def _report(client, tokens: Tokens, **params: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.get(
        "/api/v1/reports/districts", params={**PERIOD, **params}, headers=bearer(tokens.analyst)
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def _row(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    found = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, rows)
    return found[0]


async def test_summary_numbers(client, tokens: Tokens, year_2010) -> None:  # type: ignore[no-untyped-def]
    report = await _report(client, tokens)
    summary = report["tables"]["summary"]
    van_lang = _row(summary, unit="van-lang")
    assert (
        van_lang
        | {
            "unit_name": "Văn Lãng",
            "province": "lang-son",
            "opened": 4,
            "resolved": 2,
            "open_at_end": 2,
        }
        == van_lang
    )
    assert van_lang["median_days_to_resolve"] == pytest.approx(20.0)
    assert van_lang["p90_days_to_resolve"] == pytest.approx(28.0)  # 10 + 0.9 * (30 - 10)
    trung_khanh = _row(summary, unit="trung-khanh")
    assert (trung_khanh["opened"], trung_khanh["resolved"], trung_khanh["open_at_end"]) == (1, 0, 0)
    assert _row(summary, unit="trang-dinh")["opened"] == 0  # every district of the period is listed
    categories = {
        r["category"]: r["count"]
        for r in report["tables"]["incidents_by_category"]
        if r["unit"] == "van-lang"
    }
    assert categories == {"fence": 2, "construction": 1, "surveillance_equipment": 1}
    statuses = {
        r["status"]: r["count"]
        for r in report["tables"]["incidents_by_status"]
        if r["unit"] == "van-lang"
    }
    assert statuses == {"resolved": 2, "reported": 2}
    zones = {
        r["zone"]: r["count"]
        for r in report["tables"]["incidents_by_zone"]
        if r["unit"] == "van-lang"
    }
    assert zones["no_new_structures_30m"] == 4 and "sightline_corridor" not in zones
    clearing = _row(report["tables"]["clearing_by_kind"], unit="van-lang", kind="re_clearing")
    assert clearing["planned_km"] == pytest.approx(
        year_2010["lengths"]["1090-1092"] / 1000, abs=0.002
    )
    assert clearing["completed_km"] == pytest.approx(
        year_2010["lengths"]["1090-1091"] / 1000, abs=0.002
    )
    assert (
        _row(report["tables"]["markers_by_condition"], unit="van-lang", condition="damaged")[
            "count"
        ]
        == 1
    )


async def test_by_month(client, tokens: Tokens, year_2010) -> None:  # type: ignore[no-untyped-def]
    rows = (await _report(client, tokens, group="month"))["tables"]["summary"]
    van_lang = {r["month"]: r for r in rows if r["unit"] == "van-lang"}
    assert len(van_lang) == 12
    assert [van_lang[m]["opened"] for m in ("2010-01", "2010-02", "2010-03", "2010-12")] == [
        1,
        1,
        1,
        1,
    ]
    assert van_lang["2010-01"]["resolved"] == 1 and van_lang["2010-03"]["resolved"] == 1
    assert [
        van_lang[m]["open_at_end"] for m in ("2010-01", "2010-02", "2010-03", "2010-11", "2010-12")
    ] == [0, 1, 1, 1, 2]


async def test_filters_and_post_reform_periods(client, tokens: Tokens, year_2010) -> None:  # type: ignore[no-untyped-def]
    cao_bang = await _report(client, tokens, province="cao-bang")
    assert {r["unit"] for r in cao_bang["tables"]["summary"]} >= {"trung-khanh"}
    assert "van-lang" not in {r["unit"] for r in cao_bang["tables"]["summary"]}
    # After 1 Jul 2025 there are no districts: events report under their province.
    lon, lat = await off_line(client, tokens.admin, "1089+300", 20, "VN")
    await client.post(
        "/api/v1/incidents",
        json=feature(geometry=point(lon, lat), occurred_at="2026-02-01T09:00:00+07:00"),
        headers=bearer(tokens.admin),
    )
    after = await client.get(
        "/api/v1/reports/districts",
        params={"from": "2026-01-01", "to": "2026-12-31", "province": "lang-son"},
        headers=bearer(tokens.analyst),
    )
    row = _row(after.json()["tables"]["summary"], unit="lang-son")
    assert row["level"] == "province" and row["opened"] >= 1


async def test_csv_opens_in_excel_with_diacritics(client, tokens: Tokens, year_2010) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(
        "/api/v1/reports/districts",
        params={**PERIOD, "format": "csv"},
        headers=bearer(tokens.analyst),
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    van_lang = _row(rows, unit="van-lang")
    assert van_lang["unit_name"] == "Văn Lãng" and van_lang["opened"] == "4"
    other = await client.get(
        "/api/v1/reports/districts",
        params={**PERIOD, "format": "csv", "table": "incidents_by_category"},
        headers=bearer(tokens.analyst),
    )
    assert "category" in other.content.decode("utf-8-sig").splitlines()[0]
    bad = await client.get(
        "/api/v1/reports/districts",
        params={**PERIOD, "format": "csv", "table": "nope"},
        headers=bearer(tokens.analyst),
    )
    assert bad.status_code == 422


async def test_xlsx_has_a_sheet_per_table(client, tokens: Tokens, year_2010) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(
        "/api/v1/reports/districts",
        params={**PERIOD, "format": "xlsx"},
        headers=bearer(tokens.analyst),
    )
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == [
        "summary",
        "incidents_by_category",
        "incidents_by_status",
        "incidents_by_zone",
        "clearing_by_kind",
        "markers_by_condition",
        "inspections_by_condition",
        "patrols",
        "crossings",
        "survey_areas",
        "disputed_areas",
    ]
    sheet = book["summary"]
    header = [c.value for c in sheet[1]]
    assert all(c.font.bold for c in sheet[1])
    rows = [
        dict(zip(header, [c.value for c in row], strict=True)) for row in sheet.iter_rows(min_row=2)
    ]
    van_lang = _row(rows, unit="van-lang")
    assert (van_lang["unit_name"], van_lang["opened"], van_lang["median_days_to_resolve"]) == (
        "Văn Lãng",
        4,
        20.0,
    )
    opened_col = header.index("opened") + 1
    assert sheet.cell(row=2, column=opened_col).number_format == "0"


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2010-12-31", "to": "2010-01-01"},
        {"from": "2010-01-01"},
        {"from": "x", "to": "2010-01-01"},
    ],
)
async def test_bad_periods(client, tokens: Tokens, params: dict[str, str]) -> None:
    r = await client.get("/api/v1/reports/districts", params=params, headers=bearer(tokens.analyst))
    assert r.status_code == 422
