"""Scope across every read: a Lạng Sơn event must not reach a Cao Bằng officer through any
endpoint (lists, single items, history, exports, OGC items and counts, tiles, SSE,
summaries). Every GET route must be classified below, so a new endpoint cannot be left
out: either it is checked for leaks, or it is declared to hold no incident data."""

from __future__ import annotations

import math
import uuid
from typing import Any

import mapbox_vector_tile
import pytest

from app.auth.models import Role
from app.auth.tokens import create_token
from app.main import create_app
from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature

NO_INCIDENT_DATA = {
    "/healthz",
    "/readyz",
    "/metrics",  # admin only
    "/api/v1/borders",
    "/api/v1/borders/{border}",
    "/api/v1/borders/{border}/markers/{code:path}",
    "/api/v1/markers",
    "/api/v1/markers/nearest",
    "/api/v1/segments",
    "/api/v1/segments/clearing-status",
    "/api/v1/chainage",
    "/api/v1/chainage/locate",
    "/api/v1/clearing-works",
    "/api/v1/clearing-works/{work_id}",
    "/api/v1/incident-categories",
    "/api/v1/exports/markers",
    "/api/v1/exports/segments",
    "/api/v1/exports/clearing-works",
    "/api/v1/crossings",
    "/api/v1/exports/crossings",
    "/api/v1/exports/survey-areas",
    "/api/v1/inspections",
    "/api/v1/repairs",  # a repair's incident is an opaque id, as a work's (issue 32)
    "/api/v1/reports/marker-conditions",
    "/api/v1/surveys",
    # Patrols are read in the caller's province (tests/patrols); an incident is an id.
    "/api/v1/patrols",
    "/api/v1/reports/patrols",
    "/api/v1/segments/not-patrolled",
    "/api/v1/exports/patrols",
    # Disputed areas are read in the caller's province (tests/disputes); their talks are
    # the steps of an incident of that province.
    "/api/v1/disputed-areas",
    "/api/v1/disputed-areas/{area_id}",
    "/api/v1/exports/disputed-areas",
    "/api/v1/exports/marker-inspections",
    "/api/v1/exports/marker-repairs",
    "/api/v1/surveys/{survey_id}",
    # The register of units: reference data, as the markers.
    "/api/v1/units",
    "/api/v1/units/{unit_code}",
    "/api/v1/exports/units",
    "/api/v1/webhooks",  # admin only
    "/api/v1/webhooks/{sub_id}/deliveries",  # admin only
    "/ogc",
    "/ogc/api",
    "/ogc/conformance",
    "/ogc/collections",
    "/ogc/collections/{collection_id}",
    "/ogc/collections/{collection_id}/queryables",
    "/tiles/{layer}.json",
    "/map",
    "/map/static/{name}",
    "/map/vendor/maplibre-gl/{name}",
    "/map/vendor/places/{name}",  # Natural Earth countries
    "/",
    "/docs",
    "/docs/assets/{name}",
    "/openapi.json",
}
CHECKED = {
    "/api/v1/incidents",
    "/api/v1/incidents/{incident_id}",
    "/api/v1/incidents/{incident_id}/history",
    "/api/v1/incidents/{incident_id}/similar",
    "/api/v1/incidents/{incident_id}/attachments",
    "/api/v1/incidents/{incident_id}/attachments/{sha256}",
    "/api/v1/exports/incidents",
    "/api/v1/reports/districts",
    "/api/v1/reports/provinces/{province}/{year}",
    "/api/v1/incidents/{incident_id}/steps",
    "/api/v1/incidents/{incident_id}/breaches",
    "/api/v1/approvals",
    "/api/v1/approvals/{request_id}",
    "/api/v1/crossings/{crossing_id}",
    "/api/v1/counterpart-units",
    "/api/v1/counterpart-units/{counterpart}",
    "/api/v1/offline/{unit_code}.gpkg",
    "/api/v1/documents",
    "/api/v1/documents/{document_id}",
    "/api/v1/documents/{document_id}/file",
    "/api/v1/events",
    "/ogc/collections/{collection_id}/items",
    "/ogc/collections/{collection_id}/items/{feature_id}",
    "/tiles/{layer}/{z}/{x}/{y}.mvt",
}


def test_every_read_is_classified(settings) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings)

    def walk(routes: list[Any]) -> set[str]:
        found: set[str] = set()
        for route in routes:
            if hasattr(route, "original_router"):  # an included router (FastAPI keeps it whole)
                found |= walk(route.original_router.routes)
            elif "GET" in (getattr(route, "methods", None) or set()):
                found.add(route.path)
        return found

    reads = walk(app.routes)
    assert reads - NO_INCIDENT_DATA - CHECKED == set(), "classify the new read endpoint"
    assert reads >= CHECKED


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return (
        int((lon + 180) / 360 * n),
        int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n),
    )


@pytest.mark.parametrize("outsider_role", ["officer", "reporter"])
async def test_no_read_leaks_another_provinces_event(
    client, db, tokens: Tokens, outsider_role: str
) -> None:  # type: ignore[no-untyped-def]
    """Through every read, for a Cao Bằng officer and for a Cao Bằng reporter (a district
    token: reporters read their whole province, and no further)."""
    if outsider_role == "officer":
        outsider_token = tokens.officer_other
    else:
        outsider_token = (
            await create_token(
                db, name="reporter Hà Quảng", role=Role.reporter, district_code="ha-quang"
            )
        ).plaintext
    marker = f"LEAK-{uuid.uuid4().hex[:10]}"
    incident_id = uuid.uuid4()
    created = await client.post(
        "/api/v1/incidents",
        json=feature(incident_id=incident_id, location="VN-CN:1089", title=marker),
        headers=bearer(tokens.officer),
    )
    assert created.status_code == 201
    lon, lat = created.json()["geometry"]["coordinates"]
    outsider, insider = bearer(outsider_token), bearer(tokens.officer)

    async def leaks(path: str, params: dict[str, Any] | None = None) -> tuple[bool, bool]:
        """(the outsider sees it, the insider sees it): the check must see it for insiders."""
        seen = []
        # A query naming the title comes back in the page's own links: then look for the id.
        echoed = marker in str(params)
        for headers in (outsider, insider):
            r = await client.get(path, params=params or {}, headers=headers)
            found = str(incident_id) in r.text or (not echoed and marker in r.text)
            seen.append(r.status_code == 200 and found)
        return seen[0], seen[1]

    ident = str(incident_id)
    # Its case: a step citing the province's document, a national text citing it too (every
    # province reads that text, not the link), and a request for approval about it.
    mine = await client.post(
        "/api/v1/documents",
        json={"citation": f"Công hàm số 9/{marker}", "subject": "về hàng rào",
              "links": [{"target_type": "incident", "target_id": ident}]},
        headers=insider,
    )  # fmt: skip
    national = await client.post(
        "/api/v1/documents",
        json={"citation": f"Chỉ thị số {uuid.uuid4().int % 10**9}/CT-TTg", "subject": "chung",
              "links": [{"target_type": "incident", "target_id": ident}]},
        headers=bearer(tokens.admin),
    )  # fmt: skip
    assert mine.status_code == national.status_code == 201, mine.text + national.text
    step = await client.post(
        f"/api/v1/incidents/{ident}/steps",
        json={
            "kind": "note_sent",
            "happened_on": "2024-05-11",
            "document_id": mine.json()["id"],
            "counterpart": "Văn phòng Ngoại vụ Quảng Tây",
        },
        headers=insider,
    )
    approval = await client.post(
        "/api/v1/approvals",
        json={"border": "VN-CN", "requested_by_side": "other", "requester": "Phía bạn",
              "work_title": marker, "incident_id": ident, "location": "VN-CN:1089",
              "submitted": {"stage": "submitted", "happened_on": "2024-05-12"}},
        headers=insider,
    )  # fmt: skip
    assert step.status_code == approval.status_code == 201, step.text + approval.text
    # A gate of the province that the event and the request concern.
    gates = (await client.get("/api/v1/crossings", headers=insider)).json()["features"]
    gate = next(g["id"] for g in gates if g["properties"]["province"] == "lang-son")
    for kind, target in (("incident", ident), ("approval", approval.json()["id"])):
        linked = await client.post(
            f"/api/v1/crossings/{gate}/links", json={"type": kind, "id": target}, headers=insider
        )
        assert linked.status_code == 201, linked.text
    for path, params in [
        ("/api/v1/documents", {"limit": 1000}),
        ("/api/v1/documents", {"q": marker}),
        (f"/api/v1/documents/{national.json()['id']}", None),
        ("/api/v1/approvals", {"limit": 1000}),
        ("/ogc/collections/approvals/items", {"limit": 1000}),
        (f"/api/v1/approvals/{approval.json()['id']}", None),
        ("/api/v1/reports/provinces/lang-son/2024", None),
        (f"/api/v1/crossings/{gate}", None),
        ("/api/v1/counterpart-units/quang-tay", None),
        ("/api/v1/offline/lang-son.gpkg", None),
    ]:
        outside, inside = await leaks(path, params)
        assert inside, f"the check cannot see the case through {path} {params}"
        assert not outside, f"{path} {params} leaks another province's case"
    for path in (
        f"/api/v1/incidents/{ident}/steps",
        f"/api/v1/incidents/{ident}/breaches",
        f"/api/v1/documents/{mine.json()['id']}",
        f"/api/v1/documents/{mine.json()['id']}/file",
        f"/api/v1/approvals/{approval.json()['id']}",
    ):
        assert (await client.get(path, headers=outsider)).status_code == 404, path
    for path, params in [
        ("/api/v1/incidents", {"limit": 1000}),
        ("/api/v1/incidents", {"q": marker}),
        (f"/api/v1/incidents/{ident}", None),
        (f"/api/v1/incidents/{ident}/history", None),
        ("/api/v1/exports/incidents", {"format": "geojson"}),
        ("/api/v1/exports/incidents", {"format": "csv"}),
        ("/api/v1/exports/incidents", {"format": "kml"}),
        ("/api/v1/exports/incidents", {"format": "gpkg"}),
        ("/ogc/collections/incidents/items", {"limit": 10000}),
        ("/ogc/collections/incidents/items", {"filter": f"title = '{marker}'"}),
        (f"/ogc/collections/incidents/items/{ident}", None),
        (f"/ogc/collections/incidents/items/{ident}", {"f": "html"}),
        ("/api/v1/events", {"after": 0, "idle_timeout": 0.2, "limit": 10000}),
    ]:
        outside, inside = await leaks(path, params)
        assert inside, f"the check cannot see the event through {path} {params}"
        assert not outside, f"{path} {params} leaks another province's event"

    for path in (f"/api/v1/incidents/{ident}/similar", f"/api/v1/incidents/{ident}/attachments"):
        assert (await client.get(path, headers=outsider)).status_code == 404
    assert (
        await client.get(f"/api/v1/incidents/{ident}/attachments/{'0' * 64}", headers=outsider)
    ).status_code == 404

    # OGC counts: numberMatched counts only what the caller may see.
    filtered = {"filter": f"title = '{marker}'", "count": "true"}
    for headers, expected in ((outsider, 0), (insider, 1)):
        body = (
            await client.get("/ogc/collections/incidents/items", params=filtered, headers=headers)
        ).json()
        assert body["numberMatched"] == expected

    # Tiles: the outsider's tile has no such feature, the insider's has it.
    x, y = _tile(lon, lat, 14)
    ids = []
    for headers in (outsider, insider):
        r = await client.get(f"/tiles/incidents/14/{x}/{y}.mvt", headers=headers)
        decoded = mapbox_vector_tile.decode(r.content) if r.status_code == 200 else {}
        ids.append(
            {f["properties"]["id"] for f in decoded.get("incidents", {}).get("features", [])}
        )
    assert ident not in ids[0] and ident in ids[1]

    # Summaries: an officer counts only its own province, and may not ask for another.
    report = {"from": "2024-01-01", "to": "2024-12-31"}
    mine = (await client.get("/api/v1/reports/districts", params=report, headers=outsider)).json()
    assert mine["filters"]["province"] == "cao-bang"
    assert all(
        u.get("province") in (None, "cao-bang") or u.get("code") == "cao-bang"
        for u in mine["units"]
    )
    other = await client.get(
        "/api/v1/reports/districts", params={**report, "province": "lang-son"}, headers=outsider
    )
    assert other.status_code == 403


async def test_a_works_incident_ids_are_public_and_nothing_else_of_them(
    client, tokens: Tokens
) -> None:
    """Decided (issue 32): clearing works are read by every province (they are planned
    jointly), and the incidents a work names are part of its record, as opaque ids. Nothing
    else of such an incident reaches another province: its title is not in the work, and
    the id itself answers 404 there."""
    title = f"WORK-LINK-{uuid.uuid4().hex[:8]}"
    incident = await client.post(
        "/api/v1/incidents",
        json=feature(location="VN-CN:1095+100", title=title),
        headers=bearer(tokens.officer),
    )
    assert incident.status_code == 201, incident.text
    ident = incident.json()["id"]
    work = await client.post(
        "/api/v1/clearing-works",
        json={"range": "VN-CN:1095-1096", "kind": "re_clearing", "incident_ids": [ident],
              "planned_start": "2026-01-10"},
        headers=bearer(tokens.officer),
    )  # fmt: skip
    assert work.status_code == 201, work.text
    outsider = bearer(tokens.officer_other)
    seen = await client.get(f"/api/v1/clearing-works/{work.json()['id']}", headers=outsider)
    assert seen.json()["properties"]["incident_ids"] == [ident]
    assert title not in seen.text
    assert (await client.get(f"/api/v1/incidents/{ident}", headers=outsider)).status_code == 404
