from __future__ import annotations

import uuid

import pytest

from app.incidents.models import Status
from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature, off_line, point

# The lifecycle as docs/cases.md states it (the decision), written out here rather than
# read from the code's own table, so that a move the code allows and the guide does not
# (or the reverse) fails.
_FOLLOWED = "escalated referred in_negotiation monitoring resolved dismissed"
DOCUMENTED = {
    Status(source): {Status(t) for t in targets.split()}
    for source, targets in {
        "reported": "verified monitoring dismissed",
        "verified": _FOLLOWED,
        "escalated": _FOLLOWED.replace("escalated ", ""),
        "referred": _FOLLOWED.replace("referred ", ""),
        "in_negotiation": _FOLLOWED.replace("in_negotiation ", ""),
        "monitoring": _FOLLOWED.replace("monitoring ", ""),
        "resolved": "verified",
        "dismissed": "",
    }.items()
}


def test_the_guide_states_the_same_lifecycle() -> None:
    """docs/cases.md's table, read row by row, is the table above."""
    import re
    from pathlib import Path

    guide = (Path(__file__).parents[2] / "docs" / "cases.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \| (.+) \|$", guide, flags=re.MULTILINE)
    stated = {
        Status(source): set()
        if targets == "none"
        else {Status(t) for t in re.findall(r"`(\w+)`", targets)}
        for source, targets in rows
        if source in Status.__members__
    }
    assert stated == DOCUMENTED


PATHS = {
    Status.reported: [],
    Status.verified: [Status.verified],
    Status.escalated: [Status.verified, Status.escalated],
    Status.referred: [Status.verified, Status.referred],
    Status.in_negotiation: [Status.verified, Status.in_negotiation],
    Status.monitoring: [Status.monitoring],
    Status.resolved: [Status.verified, Status.resolved],
    Status.dismissed: [Status.dismissed],
}


async def _incident_in(client, tokens: Tokens, status: Status, where: str = "lang-son") -> str:  # type: ignore[no-untyped-def]
    ref, reporter = (
        ("1089+200", tokens.admin) if where == "lang-son" else ("836(2)+300", tokens.admin)
    )
    lon, lat = await off_line(client, tokens.admin, ref, 15, "VN")
    r = await client.post(
        "/api/v1/incidents", json=feature(geometry=point(lon, lat)), headers=bearer(reporter)
    )
    incident_id = r.json()["id"]
    for step in PATHS[status]:
        body = {
            "to": step.value,
            **({"reason": "not_a_violation"} if step is Status.dismissed else {}),
        }
        moved = await client.post(
            f"/api/v1/incidents/{incident_id}/transitions", json=body, headers=bearer(tokens.admin)
        )
        assert moved.status_code == 200, moved.text
    return str(incident_id)


@pytest.mark.parametrize("source", list(Status))
@pytest.mark.parametrize("target", list(Status))
async def test_every_transition_for_an_officer(
    client, tokens: Tokens, source: Status, target: Status
) -> None:
    incident_id = await _incident_in(client, tokens, source)
    body: dict[str, object] = {
        "to": target.value,
        "note": "Đã xác minh tại thực địa",
        "document_ref": "Công văn số 1232/UBND-THNC",
    }
    if target is Status.dismissed:
        body["reason"] = "not_a_violation"
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/transitions", json=body, headers=bearer(tokens.officer)
    )
    if target in DOCUMENTED[source]:
        assert r.status_code == 200, r.text
        assert r.json()["properties"]["status"] == target.value
        history = (
            await client.get(
                f"/api/v1/incidents/{incident_id}/history", headers=bearer(tokens.officer)
            )
        ).json()["history"]
        last = history[-1]
        assert last["action"] == "transition" and last["changes"]["status"] == {
            "from": source.value,
            "to": target.value,
        }
        assert (
            last["note"] == "Đã xác minh tại thực địa"
            and last["document_ref"] == "Công văn số 1232/UBND-THNC"
        )
        assert last["actor"] == "test officer"
    else:
        assert r.status_code == 409, r.text
        assert r.json()["allowed"] == sorted(s.value for s in DOCUMENTED[source])
        assert r.json()["current"] == source.value


@pytest.mark.parametrize(
    ("who", "status"), [("reporter", 403), ("analyst", 403), ("officer_other", 404), ("admin", 200)]
)
async def test_who_may_transition(client, tokens: Tokens, who: str, status: int) -> None:
    incident_id = await _incident_in(client, tokens, Status.reported)
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/transitions",
        json={"to": "verified"},
        headers=bearer(tokens.of(who)),
    )
    assert r.status_code == status


async def test_dismiss_as_duplicate(client, tokens: Tokens) -> None:
    original = await _incident_in(client, tokens, Status.reported)
    repeat = await _incident_in(client, tokens, Status.reported)
    similar = await client.get(
        f"/api/v1/incidents/{repeat}/similar", headers=bearer(tokens.officer)
    )
    assert original in [s["id"] for s in similar.json()["similar"]]
    no_reason = await client.post(
        f"/api/v1/incidents/{repeat}/transitions",
        json={"to": "dismissed"},
        headers=bearer(tokens.officer),
    )
    assert no_reason.status_code == 422
    no_target = await client.post(
        f"/api/v1/incidents/{repeat}/transitions",
        json={"to": "dismissed", "reason": "duplicate_of"},
        headers=bearer(tokens.officer),
    )
    assert no_target.status_code == 422
    r = await client.post(
        f"/api/v1/incidents/{repeat}/transitions",
        json={"to": "dismissed", "reason": "duplicate_of", "duplicate_of": original},
        headers=bearer(tokens.officer),
    )
    assert r.status_code == 200
    props = r.json()["properties"]
    assert (props["status"], props["dismissal_reason"], props["duplicate_of"]) == (
        "dismissed",
        "duplicate_of",
        original,
    )
    # A dismissed incident is no longer "similar" (only open ones are).
    again = await client.get(
        f"/api/v1/incidents/{original}/similar", headers=bearer(tokens.officer)
    )
    assert repeat not in [s["id"] for s in again.json()["similar"]]


async def test_resolve_then_reopen(client, tokens: Tokens) -> None:
    incident_id = await _incident_in(client, tokens, Status.resolved)
    got = await client.get(f"/api/v1/incidents/{incident_id}", headers=bearer(tokens.officer))
    assert got.json()["properties"]["resolved_at"] is not None
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/transitions",
        json={"to": "verified", "note": "Tái diễn"},
        headers=bearer(tokens.officer),
    )
    assert r.status_code == 200
    assert r.json()["properties"]["resolved_at"] is None


async def test_transition_with_a_stale_etag(client, tokens: Tokens) -> None:
    incident_id = await _incident_in(client, tokens, Status.reported)
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/transitions",
        json={"to": "verified"},
        headers={**bearer(tokens.officer), "If-Match": '"7"'},
    )
    assert r.status_code == 412


async def test_duplicate_of_another_provinces_incident_looks_unknown(
    client, tokens: Tokens
) -> None:
    """An officer learns nothing of Cao Bằng's incidents through duplicate_of: naming one is
    refused exactly as naming a random id is, apart from the id itself."""
    repeat = await _incident_in(client, tokens, Status.reported)
    elsewhere = await _incident_in(client, tokens, Status.reported, where="cao-bang")
    answers = []
    for target in (elsewhere, str(uuid.uuid4())):
        r = await client.post(
            f"/api/v1/incidents/{repeat}/transitions",
            json={"to": "dismissed", "reason": "duplicate_of", "duplicate_of": target},
            headers=bearer(tokens.officer),
        )
        problem = r.json()
        answers.append((r.status_code, problem["title"], problem["detail"].replace(target, "ID")))
    assert answers[0] == answers[1] and answers[0][0] == 422, answers
