"""Steps, backdated transitions, breach reviews, documents and approval procedures through
the HTTP API: scopes, idempotent retries, problem+json refusals that change nothing, the
audit trail, and the province's report view counting what was entered."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def _incident(client, tokens: Tokens, **props: Any) -> str:  # type: ignore[no-untyped-def]
    body = feature(location="VN-CN:1095+300", occurred_at="2021-03-02T08:00:00+07:00", **props)
    r = await client.post("/api/v1/incidents", json=body, headers=bearer(tokens.officer))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _audit(db, action: str) -> int:  # type: ignore[no-untyped-def]
    return int(
        (
            await db.execute(
                text("SELECT count(*) FROM audit_log WHERE action = :a"), {"a": action}
            )
        ).scalar_one()
    )


async def _document(
    client, tokens: Tokens, citation: str, subject: str, **more: Any
) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/documents",
        json={"citation": citation, "subject": subject, **more},
        headers=bearer(tokens.officer),
    )
    assert r.status_code in (200, 201), r.text
    return r.json()  # type: ignore[no-any-return]


async def test_a_step_moves_the_incident_as_of_its_day(client, db, tokens: Tokens) -> None:
    incident = await _incident(client, tokens)
    note = await _document(
        client, tokens, "Công hàm số 21/SNgV-BG ngày 15/03/2021", "Đề nghị tháo dỡ hàng rào",
        direction="outgoing", recipient="Văn phòng Ngoại vụ Quảng Tây",
    )  # fmt: skip
    await client.post(
        f"/api/v1/incidents/{incident}/transitions",
        json={"to": "verified", "effective_at": "2021-03-05T10:00:00+07:00",
              "document_ref": "Biên bản xác minh ngày 05/03/2021"},
        headers=bearer(tokens.officer),
    )  # fmt: skip
    step = {
        "id": str(uuid.uuid4()),
        "kind": "note_sent",
        "happened_on": "2021-03-15",
        "level": "province",
        "counterpart": "Văn phòng Ngoại vụ Quảng Tây",
        "document_id": note["id"],
        "section": "1",
        "status": "in_negotiation",
    }
    before = await _audit(db, "incident.step")
    r = await client.post(
        f"/api/v1/incidents/{incident}/steps", json=step, headers=bearer(tokens.officer)
    )
    assert r.status_code == 201, r.text
    assert r.json()["documents"][0]["citation"] == "Công hàm số 21/SNgV-BG ngày 15/03/2021"
    again = await client.post(
        f"/api/v1/incidents/{incident}/steps", json=step, headers=bearer(tokens.officer)
    )
    assert again.status_code == 200  # a retry records nothing twice
    listed = await client.get(f"/api/v1/incidents/{incident}/steps", headers=bearer(tokens.analyst))
    assert [s["kind"] for s in listed.json()["steps"]] == ["note_sent"]
    assert await _audit(db, "incident.step") == before + 1
    history = (
        await client.get(f"/api/v1/incidents/{incident}/history", headers=bearer(tokens.officer))
    ).json()["history"]
    moved = history[-1]
    assert moved["changes"]["status"] == {"from": "verified", "to": "in_negotiation"}
    assert moved["effective_at"].startswith("2021-03-15T05:00:00")  # noon in Vietnam
    # The agreement settles it in 2021, so the 2021 report view counts it there.
    settle = {**step, "id": str(uuid.uuid4()), "kind": "agreement", "happened_on": "2021-04-02",
              "status": "resolved", "document_id": None}  # fmt: skip
    r = await client.post(
        f"/api/v1/incidents/{incident}/steps", json=settle, headers=bearer(tokens.officer)
    )
    assert r.status_code == 201, r.text
    got = (await client.get(f"/api/v1/incidents/{incident}", headers=bearer(tokens.officer))).json()
    assert got["properties"]["resolved_at"].startswith("2021-04-02")
    report = (
        await client.get("/api/v1/reports/provinces/lang-son/2021", headers=bearer(tokens.officer))
    ).json()
    assert report["events"]["settled"]["count"] == 1
    assert report["events"]["notes_sent"]["count"] == 1
    assert report["events"]["agreements"]["count"] == 1


async def test_steps_refuse_what_they_must_and_keep_nothing(client, db, tokens: Tokens) -> None:
    incident = await _incident(client, tokens)
    url = f"/api/v1/incidents/{incident}/steps"
    step = {"kind": "talks", "happened_on": "2021-03-20", "place": "Km số 0"}
    count = text("SELECT count(*) FROM incident_steps WHERE incident_id = :i")
    other = await client.post(url, json=step, headers=bearer(tokens.officer_other))
    assert other.status_code == 404  # another province's incident is not found
    reporter = await client.post(url, json=step, headers=bearer(tokens.reporter))
    assert reporter.status_code == 403
    early = await client.post(
        url, json={**step, "happened_on": "2021-02-01"}, headers=bearer(tokens.officer)
    )
    assert early.status_code == 422 and "before the event" in early.json()["detail"]
    assert early.headers["content-type"].startswith("application/problem+json")
    wrong = await client.post(url, json={**step, "kind": "gossip"}, headers=bearer(tokens.officer))
    assert wrong.status_code == 422
    # A status the lifecycle does not allow refuses the step with it.
    jump = await client.post(url, json={**step, "status": "verified", "kind": "talks"},
                             headers=bearer(tokens.officer))  # fmt: skip
    assert jump.status_code == 201  # reported -> verified is allowed
    back = await client.post(
        url, json={**step, "happened_on": "2021-03-21", "status": "reported"},
        headers=bearer(tokens.officer),
    )  # fmt: skip
    assert back.status_code == 409
    assert (await db.execute(count, {"i": incident})).scalar_one() == 1


async def test_backdating_needs_a_document(client, tokens: Tokens) -> None:
    incident = await _incident(client, tokens)
    url = f"/api/v1/incidents/{incident}/transitions"
    bare = await client.post(
        url, json={"to": "verified", "effective_at": "2021-03-05T10:00:00+07:00"},
        headers=bearer(tokens.officer),
    )  # fmt: skip
    assert bare.status_code == 422 and "document_ref" in bare.text
    before_event = await client.post(
        url,
        json={"to": "verified", "effective_at": "2021-03-01T10:00:00+07:00",
              "document_ref": "Biên bản ngày 01/03/2021"},
        headers=bearer(tokens.officer),
    )  # fmt: skip
    assert before_event.status_code == 422 and "before the event" in before_event.json()["detail"]
    got = (await client.get(f"/api/v1/incidents/{incident}", headers=bearer(tokens.officer))).json()
    assert got["properties"]["status"] == "reported"


async def test_natures_and_breach_reviews(client, db, tokens: Tokens) -> None:
    # A fence on the line breaches Art. 7(3) as an act; as a request for approval, nothing.
    incident = await _incident(client, tokens)
    url = f"/api/v1/incidents/{incident}/breaches"
    rules = {
        r["article"]: r
        for r in (await client.get(url, headers=bearer(tokens.officer))).json()["rules"]
    }
    assert rules["Art. 7(3)"]["suggested"] is True
    current = await client.get(f"/api/v1/incidents/{incident}", headers=bearer(tokens.officer))
    patched = await client.patch(
        f"/api/v1/incidents/{incident}", json={"nature": "approval_request"},
        headers={**bearer(tokens.officer), "If-Match": current.headers["ETag"]},
    )  # fmt: skip
    assert patched.status_code == 200, patched.text
    assert patched.json()["properties"]["breaches"] == []
    assert patched.json()["properties"]["nature"] == "approval_request"
    rules = {
        r["article"]: r
        for r in (await client.get(url, headers=bearer(tokens.officer))).json()["rules"]
    }
    assert rules["Art. 7(3)"]["suggested"] is False
    assert "request for approval" in rules["Art. 7(3)"]["why"]
    review = await client.post(
        f"/api/v1/incidents/{incident}/breach-reviews",
        json={"article": "Art. 7(3)", "verdict": "rejected", "note": "Đã được đề nghị phê chuẩn"},
        headers=bearer(tokens.officer),
    )
    assert review.status_code == 200, review.text
    assert review.json()["rejected"] == ["Art. 7(3)"]
    unknown = await client.post(
        f"/api/v1/incidents/{incident}/breach-reviews",
        json={"article": "Art. 99", "verdict": "confirmed"},
        headers=bearer(tokens.officer),
    )
    assert unknown.status_code == 422 and "Art. 7(3)" in unknown.json()["detail"]
    analyst = await client.post(
        f"/api/v1/incidents/{incident}/breach-reviews",
        json={"article": "Art. 7(3)", "verdict": "confirmed"},
        headers=bearer(tokens.analyst),
    )
    assert analyst.status_code == 403
    assert await _audit(db, "incident.breach_review") >= 1


async def test_documents_register(client, db, tokens: Tokens) -> None:
    made = await _document(
        client, tokens, "Công văn số 777/UBND-KT ngày 05/10/2021 của UBND tỉnh Lạng Sơn",
        "Xử lý hàng rào khu vực mốc 1095",
    )  # fmt: skip
    assert made["kind"] == "cong_van" and made["number"] == "777/UBND-KT"
    assert made["issued_on"] == "2021-10-05" and made["issuer"] == "UBND tỉnh Lạng Sơn"
    assert made["citation"] == "Công văn số 777/UBND-KT ngày 05/10/2021"
    again = await client.post(
        "/api/v1/documents",
        json={"citation": "Công văn số 777/UBND-KT ngày 05/10/2021 của UBND tỉnh Lạng Sơn",
              "subject": "Xử lý hàng rào khu vực mốc 1095"},
        headers=bearer(tokens.officer),
    )  # fmt: skip
    assert again.status_code == 200 and again.json()["id"] == made["id"]
    clash = await client.post(
        "/api/v1/documents",
        json={"citation": "Công văn số 777/UBND-KT của UBND tỉnh Lạng Sơn", "subject": "Khác"},
        headers=bearer(tokens.officer),
    )
    assert clash.status_code == 409
    for q in ("cong van 777", "Công văn 777", "hang rao 1095"):
        found = await client.get(
            "/api/v1/documents", params={"q": q}, headers=bearer(tokens.analyst)
        )
        assert made["id"] in [d["id"] for d in found.json()["documents"]], q
    unreadable = await client.post(
        "/api/v1/documents", json={"citation": "hôm qua", "subject": "x"},
        headers=bearer(tokens.officer),
    )  # fmt: skip
    assert unreadable.status_code == 422 and "số" in unreadable.text
    analyst = await client.post(
        "/api/v1/documents", json={"kind": "cong_van", "subject": "x"},
        headers=bearer(tokens.analyst),
    )  # fmt: skip
    assert analyst.status_code == 403
    filed = await client.put(
        f"/api/v1/documents/{made['id']}/file",
        files={"file": ("cv777.pdf", PDF, "application/pdf")},
        headers=bearer(tokens.officer),
    )
    assert filed.status_code == 200, filed.text
    download = await client.get(filed.json()["file"]["href"], headers=bearer(tokens.analyst))
    assert download.content == PDF and download.headers["content-type"] == "application/pdf"
    assert await _audit(db, "document.create") >= 1 and await _audit(db, "document.file") >= 1


async def test_approval_procedure(client, db, tokens: Tokens) -> None:
    body = {
        "border": "VN-CN",
        "requested_by_side": "other",
        "requester": "Phía Trung Quốc",
        "work_title": "Nhà kiểm soát mới khu vực mốc 1095",
        "location": "VN-CN:1095-1096",
        "submitted": {"stage": "submitted", "happened_on": "2021-05-04", "body": "Phía Trung Quốc"},
    }
    r = await client.post("/api/v1/approvals", json=body, headers=bearer(tokens.officer))
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["province"] == "lang-son" and made["status"] == "submitted"
    url = f"/api/v1/approvals/{made['id']}/stages"
    forwarded = await client.post(
        url, json={"stage": "forwarded", "happened_on": "2021-05-10",
                   "body": "UBND tỉnh → Phân ban Việt Nam"},
        headers=bearer(tokens.officer),
    )  # fmt: skip
    assert forwarded.status_code == 201
    backwards = await client.post(
        url,
        json={"stage": "commented", "happened_on": "2021-05-01"},
        headers=bearer(tokens.officer),
    )
    assert backwards.status_code == 422
    approved = await client.post(
        url, json={"stage": "approved", "happened_on": "2021-08-01"}, headers=bearer(tokens.officer)
    )
    assert approved.json()["status"] == "approved"
    assert [s["stage"] for s in approved.json()["stages"]] == ["submitted", "forwarded", "approved"]
    after = await client.post(
        url, json={"stage": "refused", "happened_on": "2021-08-02"}, headers=bearer(tokens.officer)
    )
    assert after.status_code == 409 and after.json()["allowed"] == []
    other = await client.post(
        url, json={"stage": "commented", "happened_on": "2021-09-01"},
        headers=bearer(tokens.officer_other),
    )  # fmt: skip
    assert other.status_code in (403, 409)
    elsewhere = await client.post(
        "/api/v1/approvals", json=body, headers=bearer(tokens.officer_other)
    )
    assert elsewhere.status_code == 403
    listed = await client.get(
        "/api/v1/approvals",
        params={"status": "approved", "year": 2021},
        headers=bearer(tokens.analyst),
    )
    assert made["id"] in [a["id"] for a in listed.json()["approvals"]]
    report = (
        await client.get("/api/v1/reports/provinces/lang-son/2021", headers=bearer(tokens.analyst))
    ).json()
    assert report["approvals"]["requested_by_other_side"]["approved"]["count"] == 1
    assert await _audit(db, "approval.stage") >= 2


async def test_a_document_cites_the_records_of_the_line(client, tokens: Tokens) -> None:
    """A note may concern a gate, a marker's repair, a survey or a disputed area; links to
    a province's disputed area show to that province only."""
    admin = bearer(tokens.analyst)
    gates = (await client.get("/api/v1/crossings", headers=admin)).json()["features"]
    binh_nghi = next(g["id"] for g in gates if g["properties"]["code"] == "binh-nghi")
    repairs = (await client.get("/api/v1/repairs", params={"marker": "615"}, headers=admin)).json()
    areas = (await client.get("/api/v1/disputed-areas", headers=admin)).json()["disputed_areas"]
    moc_1163 = next(a["id"] for a in areas if a["code"] == "moc-1163")
    links = [
        {"target_type": "crossing", "target_id": str(binh_nghi)},
        {"target_type": "repair", "target_id": repairs["features"][0]["id"]},
        {"target_type": "disputed_area", "target_id": str(moc_1163)},
    ]
    # A national text (registered by an admin, no province) that every province reads.
    r = await client.post(
        "/api/v1/documents",
        json={"citation": "Công văn số 88/BNG-UBBG ngày 02/11/2020", "subject": "Cửa khẩu, mốc",
              "links": links},
        headers=bearer(tokens.admin),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    made = r.json()
    assert {(x["target_type"], x["target_id"]) for x in made["links"]} == {
        (x["target_type"], x["target_id"]) for x in links
    }

    async def seen_by(token: str) -> set[str]:
        got = await client.get(f"/api/v1/documents/{made['id']}", headers=bearer(token))
        assert got.status_code == 200, got.text
        return {x["target_type"] for x in got.json()["links"]}

    assert await seen_by(tokens.officer) == {"crossing", "repair", "disputed_area"}
    # Cao Bằng's officer reads the text but not that it concerns Lạng Sơn's disputed area.
    assert await seen_by(tokens.officer_other) == {"crossing", "repair"}
    for bad, words in (
        ({"target_type": "crossing", "target_id": "abc"}, "crossing ids are numbers"),
        ({"target_type": "survey", "target_id": "999999"}, "no survey 999999"),
        ({"target_type": "inspection", "target_id": "7"}, "inspection ids are UUIDs"),
    ):
        r = await client.post(
            "/api/v1/documents",
            json={"citation": "Công văn số 1/X ngày 01/01/2021", "subject": "x", "links": [bad]},
            headers=bearer(tokens.officer),
        )
        assert r.status_code == 422 and words in r.json()["detail"], r.text
