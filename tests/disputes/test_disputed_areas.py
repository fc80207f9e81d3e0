"""The register of disputed areas: marker 1163 as Lạng Sơn 2020 tells it, its talks (the
steps of its incident), scope, and state changes."""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import Tokens, bearer


async def _areas(client, token: str, **params: str) -> dict[str, dict]:  # type: ignore[no-untyped-def, type-arg]
    r = await client.get("/api/v1/disputed-areas", params=params, headers=bearer(token))
    assert r.status_code == 200, r.text
    return {a["code"]: a for a in r.json()["disputed_areas"]}


async def test_marker_1163_as_the_report_tells_it(client, tokens: Tokens) -> None:
    area = (await _areas(client, tokens.officer))["moc-1163"]
    assert area["location"] == "VN-CN:1163" and area["state"] == "under_talks"
    assert (area["since"], area["since_dated_by"]) == ("2020-09-10", "report")
    # The report gives neither side's view: none is invented.
    assert area["our_view"] is None and area["their_view"] is None
    detail = await client.get(
        f"/api/v1/disputed-areas/{area['id']}", headers=bearer(tokens.officer)
    )
    talks = detail.json()["talks"]
    assert (talks[0]["kind"], talks[0]["happened_on"]) == ("note_sent", "2020-09-10")


async def test_read_in_the_province_only(client, tokens: Tokens) -> None:
    assert "moc-1163" not in await _areas(client, tokens.officer_other)
    assert "moc-1163" in await _areas(client, tokens.analyst)
    area = (await _areas(client, tokens.analyst))["moc-1163"]
    r = await client.get(
        f"/api/v1/disputed-areas/{area['id']}", headers=bearer(tokens.officer_other)
    )
    assert r.status_code == 404


async def test_register_and_settle(client, db, tokens: Tokens) -> None:
    officer = bearer(tokens.officer)
    body = {"code": "thu-1116", "border": "VN-CN", "province": "lang-son",
            "location": "VN-CN:mốc 1116", "our_view": "Theo bản đồ Hiệp ước",
            "their_view": "Khác", "since": "2024-03-01"}  # fmt: skip
    for token, status in [(tokens.reporter, 403), (tokens.officer_other, 403)]:
        r = await client.post("/api/v1/disputed-areas", json=body, headers=bearer(token))
        assert r.status_code == status, r.text
    before = (await db.execute(text("SELECT count(*) FROM disputed_areas"))).scalar_one()
    bad = {**body, "state": "settled"}
    assert (
        await client.post("/api/v1/disputed-areas", json=bad, headers=officer)
    ).status_code == 422
    assert (await db.execute(text("SELECT count(*) FROM disputed_areas"))).scalar_one() == before
    r = await client.post("/api/v1/disputed-areas", json=body, headers=officer)
    assert r.status_code == 201, r.text
    url = f"/api/v1/disputed-areas/{r.json()['id']}/state"
    no_day = await client.post(url, json={"state": "settled"}, headers=officer)
    assert no_day.status_code == 422
    done = await client.post(url, json={"state": "settled", "on": "2024-09-01"}, headers=officer)
    assert done.status_code == 200 and done.json()["settled_on"] == "2024-09-01"
    again = await client.post(url, json={"state": "under_talks"}, headers=officer)
    assert again.status_code == 409
