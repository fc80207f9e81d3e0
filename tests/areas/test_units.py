"""The register of units against the acts that made them: Cao Bằng's 2020 district merges,
Lạng Sơn's 2025 commune merges, Border Guard stations along their stretch, the units across
the line the reports name, and Lạng Sơn's border length as its own report states it."""

from __future__ import annotations

from typing import Any

import pyogrio
import shapely
from shapely.geometry import Point, shape
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from app.auth.tokens import create_token
from app.errors import InvalidInput
from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature


async def _units(client, tokens: Tokens, **params: Any) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/units", params=params, headers=bearer(tokens.reporter))
    assert r.status_code == 200, r.text
    return {u["code"]: u for u in r.json()["units"]}


async def _unit(client, tokens: Tokens, code: str, **params: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.get(f"/api/v1/units/{code}", params=params, headers=bearer(tokens.analyst))
    assert r.status_code == 200, r.text
    found: dict[str, Any] = r.json()
    return found


async def _placed_on(client, tokens: Tokens, unit: str, days: list[str]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The properties of an incident posted at a point inside `unit`'s first shape on each
    of `days`."""
    first = (await _unit(client, tokens, unit))["versions"][0]["geometry"]
    point = shape(first).representative_point()
    placed = {}
    for day in days:
        body = feature(
            geometry={"type": "Point", "coordinates": [point.x, point.y]},
            border="VN-CN",
            occurred_at=f"{day}T08:00:00+07:00",
        )
        r = await client.post("/api/v1/incidents", json=body, headers=bearer(tokens.admin))
        assert r.status_code == 201, r.text
        placed[day] = r.json()["properties"]
    return placed


async def test_cao_bang_merged_its_districts_on_1_february_2020(client, tokens: Tokens) -> None:
    """Nghị quyết 864/NQ-UBTVQH14: Trà Lĩnh into Trùng Khánh, Thông Nông into Hà Quảng,
    Quảng Uyên and Phục Hòa into the new Quảng Hòa."""
    before = await _units(client, tokens, on="2020-01-31", level="district", province="cao-bang")
    after = await _units(client, tokens, on="2020-02-01", level="district", province="cao-bang")
    merged = {"tra-linh", "thong-nong", "quang-uyen", "phuc-hoa"}
    assert merged <= before.keys()
    assert "quang-hoa" not in before
    assert not merged & after.keys()
    assert {"quang-hoa", "trung-khanh", "ha-quang"} <= after.keys()
    assert after["quang-hoa"]["document"].startswith("Nghị quyết 864/NQ-UBTVQH14")
    # A district that took others in covers them: its new shape is their shapes together.
    for into, parts in {
        "trung-khanh": ["trung-khanh", "tra-linh"],
        "ha-quang": ["ha-quang", "thong-nong"],
        "quang-hoa": ["quang-uyen", "phuc-hoa"],
    }.items():
        assert abs(after[into]["area_km2"] - sum(before[p]["area_km2"] for p in parts)) < 0.5
    # The province did not change: the same land before and after.
    total = sum(u["area_km2"] for u in before.values())
    assert abs(total - sum(u["area_km2"] for u in after.values())) < 1.0
    # And no district is left after 1 Jul 2025.
    assert await _units(client, tokens, on="2025-07-01", level="district") == {}


async def test_an_event_is_placed_in_the_district_of_its_day(client, tokens: Tokens) -> None:
    """The same place, in Trà Lĩnh in 2019 and in Trùng Khánh in 2021."""
    placed = await _placed_on(client, tokens, "tra-linh", ["2019-06-01", "2021-06-01"])
    assert {day: p["district"] for day, p in placed.items()} == {
        "2019-06-01": "tra-linh",
        "2021-06-01": "trung-khanh",
    }


async def test_loc_binh_communes_merged_on_1_july_2025(client, tokens: Tokens) -> None:
    """Nghị quyết 1672/NQ-UBTVQH15: thị trấn Lộc Bình, Khánh Xuân, Đồng Bục and Hữu Khánh
    into xã Lộc Bình; Mẫu Sơn, Yên Khoái and Tú Mịch into xã Mẫu Sơn."""
    district = await _unit(client, tokens, "loc-binh", on="2025-06-30")
    before = {u["code"]: u for u in district["units_under"] if u["level"] == "commune"}
    assert before.keys() == {
        "tt-loc-binh", "xa-khanh-xuan", "xa-dong-buc", "xa-huu-khanh",
        "xa-mau-son", "xa-yen-khoai", "xa-tu-mich",
    }  # fmt: skip
    assert before["tt-loc-binh"]["name_vi"] == "thị trấn Lộc Bình"
    # After the reform the district is gone and the communes stand under the province.
    assert (await _unit(client, tokens, "loc-binh", on="2025-07-01"))["units_under"] == []
    province = await _unit(client, tokens, "lang-son", on="2025-07-01")
    after = {u["code"]: u for u in province["units_under"] if u["level"] == "commune"}
    assert after.keys() == {"xa-loc-binh", "xa-mau-son"}
    assert after["xa-mau-son"]["document"] == "Nghị quyết 1672/NQ-UBTVQH15 năm 2025"
    merged = before["xa-mau-son"]["area_km2"] + before["xa-yen-khoai"]["area_km2"]
    merged += before["xa-tu-mich"]["area_km2"]
    assert abs(after["xa-mau-son"]["area_km2"] - merged) < 0.5
    # One code, two versions: the commune of 2000-2025 and the one formed in 2025.
    versions = (await _unit(client, tokens, "xa-mau-son"))["versions"]
    assert [(v["valid_from"], v["valid_to"], v["parent"]) for v in versions] == [
        ("2000-01-01", "2025-07-01", "loc-binh"),
        ("2025-07-01", None, "lang-son"),
    ]


async def test_a_station_guards_its_stretch_of_the_line(client, tokens: Tokens) -> None:
    stations = await _units(client, tokens, level="station", province="lang-son")
    assert "don-bp-na-hinh" in stations
    assert stations["don-bp-na-hinh"]["name_vi"] == "Đồn Biên phòng Na Hình"
    area = shape((await _unit(client, tokens, "don-bp-na-hinh"))["versions"][0]["geometry"])

    async def marker(code: str) -> Point:
        r = await client.get(
            f"/api/v1/borders/VN-CN/markers/{code}", headers=bearer(tokens.reporter)
        )
        assert r.status_code == 200, r.text
        return Point(r.json()["geometry"]["coordinates"])

    # Na Hình – Kéo Ái stands at 1055-1056 (Lạng Sơn 2020), inside the stretch 1021-1060;
    # 1116, Hữu Nghị's stretch, is another station's (about 100 m of slack in degrees).
    assert area.buffer(0.001).contains(await marker("1055"))
    assert not area.buffer(0.001).contains(await marker("1116"))


async def test_the_units_across_the_line_the_reports_name(client, tokens: Tokens) -> None:
    r = await client.get(
        "/api/v1/counterpart-units", params={"facing": "ha-tinh"}, headers=bearer(tokens.reporter)
    )
    assert r.status_code == 200, r.text
    # Hà Tĩnh 2022: "hai tỉnh có chung đường biên giới Bolikhămxay, Khăm Muôn (Lào)".
    facing = {u["code"]: u for u in r.json()["counterpart_units"]}
    assert facing.keys() == {"bolikhamxay", "kham-muon"}
    assert {u["country"] for u in facing.values()} == {"LA"}
    r = await client.get("/api/v1/counterpart-units", headers=bearer(tokens.reporter))
    by_code = {u["code"]: u for u in r.json()["counterpart_units"]}
    # Cao Bằng 2023: huyện Nà Po repaired marker 615; Nà Po is in Bách Sắc, in Quảng Tây.
    assert by_code["na-po"]["parent"] == "bach-sac"
    assert by_code["bach-sac"]["parent"] == "quang-tay"
    assert "cao-bang" in by_code["na-po"]["facing"]


async def test_lang_son_keeps_its_official_border_length_beside_the_model(
    client, tokens: Tokens, db: AsyncSession
) -> None:
    """Lạng Sơn 2020: "có đường biên giới dài 231,74km"."""
    lengths = {
        p: {b["border"]: b for b in (await _unit(client, tokens, p))["border_lengths"]}
        for p in ("lang-son", "cao-bang")
    }
    assert lengths["lang-son"]["VN-CN"]["official_km"] == 231.74
    assert lengths["cao-bang"]["VN-CN"]["official_km"] is None  # no report gives it
    modelled = [lengths[p]["VN-CN"]["modelled_km"] for p in ("lang-son", "cao-bang")]
    assert all(km > 50 for km in modelled)
    # No piece of the line counted for two provinces.
    line_km = (
        await db.execute(text("SELECT length_m / 1000 FROM borders WHERE code = 'VN-CN'"))
    ).scalar_one()
    assert sum(modelled) <= line_km


async def test_markers_and_works_are_placed_by_one_rule(db: AsyncSession) -> None:
    """Issue 27: works along 1262-1275 were put in Đình Lập while those markers belonged to
    no province. Every marker inside a work's stretch now stands in the work's provinces."""
    disagreements = (
        await db.execute(
            text(
                """
                SELECT w.range_ref, m.code, m.province_code, w.province_codes
                FROM clearing_works w JOIN markers m ON m.border_id = w.border_id
                 AND m.chainage_m BETWEEN w.start_m AND w.end_m
                WHERE m.province_code IS NULL
                   OR NOT w.province_codes ? m.province_code
                """
            )
        )
    ).all()
    assert disagreements == []
    placed = (
        await db.execute(
            text(
                "SELECT count(*) FROM markers m JOIN borders b ON b.id = m.border_id "
                "WHERE b.code = 'VN-CN' AND m.number BETWEEN 1262 AND 1275 "
                "AND m.province_code = 'lang-son'"
            )
        )
    ).scalar_one()
    assert placed >= 14


async def test_unknown_units_and_filters_are_refused(client, tokens: Tokens) -> None:
    r = await client.get("/api/v1/units/nowhere", headers=bearer(tokens.reporter))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.get(
        "/api/v1/units", params={"level": "hamlet"}, headers=bearer(tokens.reporter)
    )
    assert r.status_code == 422
    r = await client.get(
        "/api/v1/units", params={"bbox": "1,2,3,4"}, headers=bearer(tokens.reporter)
    )
    assert r.status_code == 422
    r = await client.get("/api/v1/units")
    assert r.status_code == 401


async def test_after_the_reform_an_event_is_placed_in_its_commune(client, tokens: Tokens) -> None:
    """The same place: in xã Tú Mịch of Lộc Bình district in 2024; in the new xã Mẫu Sơn
    and no district in September 2025, when the summary counts it in that commune."""
    placed = await _placed_on(client, tokens, "xa-tu-mich", ["2024-09-01", "2025-09-01"])
    assert {day: (p["district"], p["commune"]) for day, p in placed.items()} == {
        "2024-09-01": ("loc-binh", "xa-tu-mich"),
        "2025-09-01": (None, "xa-mau-son"),
    }
    r = await client.get(
        "/api/v1/reports/districts",
        params={"from": "2025-09-01", "to": "2025-09-30", "province": "lang-son"},
        headers=bearer(tokens.analyst),
    )
    assert r.status_code == 200, r.text
    rows = [row for row in r.json()["tables"]["summary"] if row["unit"] == "xa-mau-son"]
    assert len(rows) == 1
    assert rows[0]["level"] == "commune" and rows[0]["opened"] >= 1
    assert rows[0]["unit_name"] == "xã Mẫu Sơn"


async def test_a_station_reporter_reports_in_the_stations_area(
    client, tokens: Tokens, db: AsyncSession
) -> None:
    """A Tân Thanh reporter (stretch 1060-1098) reports at Tân Thanh – Pò Chài (1090-1091)
    and is refused at Hữu Nghị (1116), the next station's; a token names real units."""
    issued = await create_token(
        db, name="Đồn Biên phòng Tân Thanh", role=Role.reporter, station_code="don-bp-tan-thanh"
    )
    assert issued.token.province_code == "lang-son"  # the station's province
    reporter = bearer(issued.plaintext)
    inside = feature(location="VN-CN:1090+200", border="VN-CN")
    r = await client.post("/api/v1/incidents", json=inside, headers=reporter)
    assert r.status_code == 201, r.text
    outside = feature(location="VN-CN:1116", border="VN-CN")
    r = await client.post("/api/v1/incidents", json=outside, headers=reporter)
    assert r.status_code == 403, r.text
    assert "station (don-bp-tan-thanh)" in r.json()["detail"]
    for wrong in ({"station_code": "don-bp-nowhere"}, {"station_code": "lang-son"}):
        try:
            await create_token(db, name="x", role=Role.reporter, **wrong)
        except InvalidInput as refused:
            assert "unknown station" in refused.detail
        else:
            raise AssertionError(f"{wrong} was accepted")


async def test_talks_with_a_unit_across_the_line_stay_in_their_province(
    client, tokens: Tokens
) -> None:
    """Cao Bằng 2023: huyện Nà Po (Trung Quốc) repaired marker 615, a case of Cao Bằng's;
    Lạng Sơn 2020: notes to Văn phòng Ngoại vụ Quảng Tây, cases of Lạng Sơn's."""

    async def counterpart(code: str, token: str) -> dict[str, Any]:
        r = await client.get(f"/api/v1/counterpart-units/{code}", headers=bearer(token))
        assert r.status_code == 200, r.text
        found: dict[str, Any] = r.json()
        return found

    na_po = await counterpart("na-po", tokens.officer_other)
    assert na_po["talks"] == len(na_po["talks_with"]) >= 1
    assert all("Nà Po" in t["counterpart"] for t in na_po["talks_with"])
    assert (await counterpart("na-po", tokens.officer))["talks_with"] == []
    guangxi = await counterpart("quang-tay", tokens.officer)
    assert guangxi["talks"] >= 1 and "huu-nghi" in guangxi["crossings"]
    assert (await counterpart("quang-tay", tokens.officer_other))["talks"] == 0
    everyone = await counterpart("quang-tay", tokens.analyst)
    assert everyone["talks"] == guangxi["talks"]  # all of them are Lạng Sơn's
    r = await client.get("/api/v1/counterpart-units/nowhere", headers=bearer(tokens.analyst))
    assert r.status_code == 404


async def test_the_units_export_reads_back_in_gdal(client, tokens: Tokens, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The communes of 1 Jul 2025 as a GeoPackage, as QGIS would open it."""
    r = await client.get(
        "/api/v1/exports/units",
        params={"level": "commune", "on": "2025-07-01", "format": "gpkg"},
        headers=bearer(tokens.analyst),
    )
    assert r.status_code == 200, r.text
    path = tmp_path / "units.gpkg"
    path.write_bytes(r.content)
    info = pyogrio.read_info(path)
    assert info["driver"] == "GPKG" and info["features"] == 2
    _, _, geometry, fields = pyogrio.raw.read(path)
    columns = list(info["fields"])
    assert {str(v) for v in fields[columns.index("code")]} == {"xa-loc-binh", "xa-mau-son"}
    assert {str(v) for v in fields[columns.index("document")]} == {
        "Nghị quyết 1672/NQ-UBTVQH15 năm 2025"
    }
    assert all(shapely.from_wkb(g).geom_type == "MultiPolygon" for g in geometry)
    kml = await client.get(
        "/api/v1/exports/units",
        params={"level": "station", "format": "kml"},
        headers=bearer(tokens.analyst),
    )
    assert kml.status_code == 200 and "Đồn Biên phòng Tân Thanh (station)" in kml.text
