from __future__ import annotations

from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature, off_line, point


async def _create(client, tokens: Tokens) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    lon, lat = await off_line(client, tokens.admin, "1089+200", 15, "VN")
    r = await client.post(
        "/api/v1/incidents",
        json=feature(geometry=point(lon, lat), title="Ban đầu"),
        headers=bearer(tokens.reporter),
    )
    return r.json()["id"], r.headers["etag"]


async def test_patch_needs_if_match(client, tokens: Tokens) -> None:
    incident_id, _ = await _create(client, tokens)
    r = await client.patch(
        f"/api/v1/incidents/{incident_id}", json={"title": "x"}, headers=bearer(tokens.reporter)
    )
    assert r.status_code == 428
    assert r.headers["content-type"] == "application/problem+json"


async def test_patch_with_current_then_stale_etag(client, tokens: Tokens) -> None:
    incident_id, etag = await _create(client, tokens)
    r = await client.patch(
        f"/api/v1/incidents/{incident_id}",
        json={"title": "Bổ sung thông tin", "severity": "high", "tags": ["cap_quang"]},
        headers={**bearer(tokens.reporter), "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    props = r.json()["properties"]
    assert (props["title"], props["severity"], props["tags"]) == (
        "Bổ sung thông tin",
        "high",
        ["cap_quang"],
    )
    stale = await client.patch(
        f"/api/v1/incidents/{incident_id}",
        json={"title": "lần hai"},
        headers={**bearer(tokens.reporter), "If-Match": etag},
    )
    assert stale.status_code == 412
    history = (
        await client.get(
            f"/api/v1/incidents/{incident_id}/history", headers=bearer(tokens.reporter)
        )
    ).json()["history"]
    assert [h["action"] for h in history] == ["created", "updated"]
    assert history[1]["changes"]["title"] == {"from": "Ban đầu", "to": "Bổ sung thông tin"}
    assert history[1]["actor"] == "test reporter"


async def test_moving_an_incident_recomputes_its_context(client, tokens: Tokens) -> None:
    incident_id, etag = await _create(client, tokens)
    lon, lat = await off_line(client, tokens.admin, "1089+200", 5, "CN")
    r = await client.patch(
        f"/api/v1/incidents/{incident_id}",
        json={"geometry": point(lon, lat)},
        headers={**bearer(tokens.officer), "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert props["side"] == "CN" and props["distance_to_line_m"] < 6
    assert "sightline_corridor" in props["zones"]


async def test_category_change_recomputes_breaches(client, tokens: Tokens) -> None:
    incident_id, etag = await _create(client, tokens)
    r = await client.patch(
        f"/api/v1/incidents/{incident_id}",
        json={"category": "smuggling"},
        headers={**bearer(tokens.officer), "If-Match": etag},
    )
    assert r.json()["properties"]["breaches"] == []
    bad = await client.patch(
        f"/api/v1/incidents/{incident_id}",
        json={"category": "ufo"},
        headers={**bearer(tokens.officer), "If-Match": '"2"'},
    )
    assert bad.status_code == 422


async def test_edits_out_of_scope_are_refused(client, tokens: Tokens) -> None:
    incident_id, etag = await _create(client, tokens)
    for who, status in [("officer_other", 404), ("analyst", 403)]:
        r = await client.patch(
            f"/api/v1/incidents/{incident_id}",
            json={"title": "x"},
            headers={**bearer(tokens.of(who)), "If-Match": etag},
        )
        assert r.status_code == status, (who, r.text)
    far = await off_line(client, tokens.admin, "836(2)+300", 40, "VN")
    moved = await client.patch(
        f"/api/v1/incidents/{incident_id}",
        json={"geometry": point(*far)},
        headers={**bearer(tokens.reporter), "If-Match": etag},
    )
    assert moved.status_code == 403
