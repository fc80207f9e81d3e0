from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from tests.conftest import Tokens, bearer
from tests.incidents.helpers import GEOD, feature


def work(range_: str, kind: str = "re_clearing", **fields: object) -> dict[str, object]:
    return {"range": range_, "kind": kind, **fields}


async def _create(client, tokens: Tokens, body: dict[str, object], who: str = "officer"):  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/clearing-works", json=body, headers=bearer(tokens.of(who)))
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize("range_", ["VN-CN:1042-1053/1", "VN-CN:1248+470-1253", "VN-CN:1173-1183"])
async def test_stretch_length_matches_an_independent_geodesic_length(
    client, tokens: Tokens, range_: str
) -> None:
    created = await _create(client, tokens, work(range_, planned_start="2020-03-01"))
    lons, lats = zip(*created["geometry"]["coordinates"], strict=True)
    props = created["properties"]
    assert props["length_m"] == pytest.approx(GEOD.line_length(lons, lats), rel=1e-5, abs=0.1)
    assert sum(d["length_m"] for d in props["districts"]) == pytest.approx(
        props["length_m"], rel=0.01
    )
    assert props["provinces"] == ["lang-son"]
    assert created["overlaps"] == []


async def test_stretch_across_two_districts(client, tokens: Tokens) -> None:
    # Văn Lãng ends and Cao Lộc begins around marker 1099 (demo districts).
    created = await _create(client, tokens, work("VN-CN:1090-1110", planned_start="2021-01-10"))
    districts = {d["code"]: d["length_m"] for d in created["properties"]["districts"]}
    assert set(districts) == {"van-lang", "cao-loc"}
    assert all(v > 500 for v in districts.values())


async def test_overlap_with_open_work_of_the_same_kind_is_reported(client, tokens: Tokens) -> None:
    first = await _create(client, tokens, work("VN-CN:1173-1183"))
    second = await _create(client, tokens, work("VN-CN:1180-1190"))
    assert [o["id"] for o in second["overlaps"]] == [first["id"]]
    assert second["overlaps"][0]["overlap_m"] > 0
    other_kind = await _create(client, tokens, work("VN-CN:1180-1190", kind="embankment"))
    assert other_kind["overlaps"] == []


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (work("VN-CN:1053/1-1042"), "runs backwards"),
        (work("VN-CN:1378-1378+9000"), "past the end"),
        (work("VN-CN:1042-1053/7"), "no marker 1053/7"),
        (work("1042-1053"), "names its border"),
        (work("VN-CN:1042"), "not a range"),
        (work("VN-CN:1042-1043", kind="mowing"), "unknown kind"),
        (work("VN-CN:1042-1043", planned_start="2020-05-01", planned_end="2020-04-01"), "before"),
        (work("VN-CN:1042-1043", incident_ids=[str(uuid.uuid4())]), "no incident"),
    ],
)
async def test_bad_works_are_422_and_store_nothing(
    client, db, tokens: Tokens, body: dict[str, object], words: str
) -> None:
    before = (await db.execute(text("SELECT count(*) FROM clearing_works"))).scalar_one()
    r = await client.post("/api/v1/clearing-works", json=body, headers=bearer(tokens.officer))
    assert r.status_code == 422, r.text
    assert words in r.json()["detail"]
    assert (await db.execute(text("SELECT count(*) FROM clearing_works"))).scalar_one() == before


async def test_scope(client, tokens: Tokens) -> None:
    for who, status in [
        ("officer_other", 403),
        ("reporter", 403),
        ("analyst", 403),
        ("admin", 201),
    ]:
        r = await client.post(
            "/api/v1/clearing-works", json=work("VN-CN:1042-1043"), headers=bearer(tokens.of(who))
        )
        assert r.status_code == status, (who, r.text)
    cao_bang = await client.post(
        "/api/v1/clearing-works",
        json=work("VN-CN:556/1-556/2", kind="embankment"),
        headers=bearer(tokens.officer_other),
    )
    assert cao_bang.status_code == 201


async def test_progress_from_completed_parts(client, tokens: Tokens) -> None:
    created = await _create(client, tokens, work("VN-CN:1248+470-1253", planned_start="2020-03-01"))
    work_id = created["id"]
    length = created["properties"]["length_m"]
    url = f"/api/v1/clearing-works/{work_id}/completions"
    first = await client.post(
        url,
        json={"range": "1248+470-1249", "completed_on": "2020-04-01"},
        headers=bearer(tokens.officer),
    )
    assert first.status_code == 201, first.text
    part1 = first.json()["properties"]
    assert part1["status"] == "in_progress" and part1["actual_start"] == "2020-04-01"
    # An overlapping second part counts its new metres only.
    second = await client.post(
        url,
        json={"range": "1248+480-1250", "completed_on": "2020-05-01"},
        headers=bearer(tokens.officer),
    )
    props = second.json()["properties"]
    c1089 = await client.get(
        "/api/v1/chainage", params={"ref": "VN-CN:1248+470-1250"}, headers=bearer(tokens.admin)
    )
    assert props["completed_m"] == pytest.approx(c1089.json()["properties"]["length_m"], abs=1)
    assert props["progress"] == pytest.approx(props["completed_m"] / length, abs=1e-3)
    outside = await client.post(
        url,
        json={"range": "1240-1249", "completed_on": "2020-05-01"},
        headers=bearer(tokens.officer),
    )
    assert outside.status_code == 422 and "outside" in outside.json()["detail"]


async def test_marking_completed_completes_the_rest_whole(client, tokens: Tokens) -> None:
    created = await _create(client, tokens, work("VN-CN:1042-1043", actual_start="2020-04-01"))
    etag = (
        await client.get(f"/api/v1/clearing-works/{created['id']}", headers=bearer(tokens.officer))
    ).headers["etag"]
    no_etag = await client.patch(
        f"/api/v1/clearing-works/{created['id']}",
        json={"status": "completed"},
        headers=bearer(tokens.officer),
    )
    assert no_etag.status_code == 428
    r = await client.patch(
        f"/api/v1/clearing-works/{created['id']}",
        json={"status": "completed", "actual_end": "2020-06-30"},
        headers={**bearer(tokens.officer), "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert props["progress"] == pytest.approx(1.0, abs=1e-4)
    assert props["completions"][0]["completed_on"] == "2020-06-30"
    stale = await client.patch(
        f"/api/v1/clearing-works/{created['id']}",
        json={"notes": "x"},
        headers={**bearer(tokens.officer), "If-Match": etag},
    )
    assert stale.status_code == 412


async def test_linked_incidents(client, tokens: Tokens) -> None:
    incident = await client.post(
        "/api/v1/incidents",
        json=feature(location="VN-CN:1042+100", category="fence"),
        headers=bearer(tokens.officer),
    )
    created = await _create(
        client, tokens, work("VN-CN:1042-1043", incident_ids=[incident.json()["id"]])
    )
    assert created["properties"]["incident_ids"] == [incident.json()["id"]]


async def test_list_filters(client, tokens: Tokens) -> None:
    a = await _create(
        client,
        tokens,
        work("VN-CN:1042-1043", kind="maintenance_clearing", planned_start="2019-05-01"),
    )
    b = await _create(
        client,
        tokens,
        work("VN-CN:1044-1045", kind="maintenance_clearing", planned_start="2020-05-01"),
    )
    r = await client.get(
        "/api/v1/clearing-works",
        params={"kind": "maintenance_clearing", "year": 2020},
        headers=bearer(tokens.analyst),
    )
    ids = [f["id"] for f in r.json()["features"]]
    assert b["id"] in ids and a["id"] not in ids
    by_province = await client.get(
        "/api/v1/clearing-works",
        params={"province": "cao-bang", "kind": "maintenance_clearing"},
        headers=bearer(tokens.analyst),
    )
    assert a["id"] not in [f["id"] for f in by_province.json()["features"]]


async def test_clearing_status_counts_partial_coverage_by_length(client, tokens: Tokens) -> None:
    today = date(2026, 11, 23)
    seg = await client.get(
        "/api/v1/segments",
        params={"border": "VN-CN", "from": "1200", "to": "1201"},
        headers=bearer(tokens.admin),
    )
    segment = seg.json()["features"][0]["properties"]
    assert segment["ref"] == "1200-1201"
    created = await _create(
        client, tokens, work("VN-CN:1200-1201", kind="re_clearing", planned_start="2025-01-01")
    )
    # Clear the first 30 % of the segment recently, and the rest long ago.
    split = round(segment["length_m"] * 0.3)
    url = f"/api/v1/clearing-works/{created['id']}/completions"
    recent = (today - timedelta(days=100)).isoformat()
    await client.post(
        url,
        json={"range": f"1200-1200+{split}", "completed_on": recent},
        headers=bearer(tokens.officer),
    )
    await client.post(
        url,
        json={"range": f"1200+{split}-1201", "completed_on": "2019-01-01"},
        headers=bearer(tokens.officer),
    )

    async def status_of(**params: object) -> dict[str, object]:
        r = await client.get(
            "/api/v1/segments/clearing-status",
            params={"border": "VN-CN", "on": today.isoformat(), **params},
            headers=bearer(tokens.analyst),
        )
        assert r.status_code == 200, r.text
        return next(
            f["properties"] for f in r.json()["features"] if f["properties"]["ref"] == "1200-1201"
        )

    within_year = await status_of(older_than_days=365)
    assert within_year["last_cleared_on"] == recent
    assert within_year["days_since_cleared"] == 100
    assert within_year["cleared_share"] == pytest.approx(0.3, abs=0.01)
    assert within_year["cleared_within_period"] is False  # 30 % < the 50 % default
    assert (await status_of(older_than_days=365, min_share=0.25))["cleared_within_period"] is True
    eight_years = await status_of(older_than_days=8 * 365)
    assert eight_years["cleared_share"] == pytest.approx(1.0, abs=0.01)
    stale = await client.get(
        "/api/v1/segments/clearing-status",
        params={"border": "VN-CN", "on": today.isoformat(), "stale_only": "true"},
        headers=bearer(tokens.analyst),
    )
    refs = [f["properties"]["ref"] for f in stale.json()["features"]]
    assert "1200-1201" in refs and "1201-1202" in refs
    # Embankments are works, not clearing: a completed embankment over 1201-1202 leaves it
    # as never cleared, and 1200-1201 as it was.
    embankment = await _create(
        client, tokens, work("VN-CN:1200+10-1202", kind="embankment", planned_start="2025-01-01")
    )
    done = await client.post(
        f"/api/v1/clearing-works/{embankment['id']}/completions",
        json={"range": "1200+10-1202", "completed_on": recent},
        headers=bearer(tokens.officer),
    )
    assert done.status_code == 201, done.text
    after = await client.get(
        "/api/v1/segments/clearing-status",
        params={"border": "VN-CN", "on": today.isoformat(), "older_than_days": 365},
        headers=bearer(tokens.analyst),
    )
    by_ref = {f["properties"]["ref"]: f["properties"] for f in after.json()["features"]}
    assert by_ref["1201-1202"]["last_cleared_on"] is None
    assert by_ref["1200-1201"]["cleared_share"] == pytest.approx(0.3, abs=0.01)


async def _all_pages(client, url: str, params: dict[str, object], headers) -> list:  # type: ignore[no-untyped-def]
    features, next_url = [], url
    while next_url:
        r = await client.get(next_url, params=params, headers=headers)
        assert r.status_code == 200, r.text
        features += r.json()["features"]
        next_url = next((link["href"] for link in r.json()["links"] if link["rel"] == "next"), None)
        params = {}
    return features


async def test_range_lists_the_works_on_that_stretch(client, tokens: Tokens) -> None:
    """`range` was silently ignored (issue 27). The oracle: every work's own chainage
    against the stretch's ends, as the chainage endpoint resolves them."""
    headers = bearer(tokens.analyst)
    stretch = (
        await client.get("/api/v1/chainage", params={"ref": "VN-CN:1042-1053/1"}, headers=headers)
    ).json()["properties"]
    start, end = stretch["from"]["chainage_m"], stretch["to"]["chainage_m"]
    everything = await _all_pages(client, "/api/v1/clearing-works", {"limit": 500}, headers)
    for within in (0, 2000):
        expected = {
            w["id"]
            for w in everything
            if w["properties"]["border"] == "VN-CN"
            and w["properties"]["start_m"] <= end + within + 0.1
            and w["properties"]["end_m"] >= start - within - 0.1
        }
        params = {"range": "VN-CN:1042-1053/1", "within_m": within, "limit": 500}
        got = {w["id"] for w in await _all_pages(client, "/api/v1/clearing-works", params, headers)}
        assert got == expected
        assert 0 < len(got) < len(everything)


async def test_an_unknown_filter_is_refused_not_ignored(client, tokens: Tokens) -> None:
    for path in ("/api/v1/clearing-works", "/api/v1/incidents", "/api/v1/markers"):
        r = await client.get(
            path, params={"rnage": "VN-CN:1042-1053/1"}, headers=bearer(tokens.admin)
        )
        assert r.status_code == 422, (path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert "rnage" in r.json()["detail"]


async def test_after_the_reform_a_work_runs_along_communes(client, tokens: Tokens) -> None:
    """The same stretch in Lộc Bình: along its district and the communes of 2024, and along
    the new xã Mẫu Sơn (no district) in September 2025, where the summary counts it."""
    before = await _create(client, tokens, work("VN-CN:1165-1170", planned_start="2024-09-01"))
    after = await _create(client, tokens, work("VN-CN:1165-1170", planned_start="2025-09-01"))
    length = after["properties"]["length_m"]
    assert [d["code"] for d in before["properties"]["districts"]] == ["loc-binh"]
    assert before["properties"]["communes"]
    assert {c["code"] for c in before["properties"]["communes"]} <= {
        "xa-mau-son", "xa-yen-khoai", "xa-tu-mich",
    }  # fmt: skip
    assert after["properties"]["districts"] == []
    assert [c["code"] for c in after["properties"]["communes"]] == ["xa-mau-son"]
    assert after["properties"]["communes"][0]["length_m"] == pytest.approx(length, rel=0.01)
    r = await client.get(
        "/api/v1/reports/districts",
        params={"from": "2025-09-01", "to": "2025-09-30", "province": "lang-son"},
        headers=bearer(tokens.analyst),
    )
    [row] = [x for x in r.json()["tables"]["clearing_by_kind"] if x["unit"] == "xa-mau-son"]
    assert row["planned_km"] == pytest.approx(length / 1000, rel=0.01)
