"""Why each article of the agreement is, or is not, suggested for an incident.

The context (app/incidents/context.py) stores the articles suggested; this explains every
rule of the incident's border and category, the ones it did not apply too, so that an
officer sees "a wildfire is not burning to clear land" rather than a silent absence, and
adds the officer's verdict where there is one."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.incidents import queries as incident_queries
from app.incidents.models import Nature

_NOT_AN_ACT = {
    Nature.approval_request.value: "a request for approval is not a breach: the procedure "
    "for building on the border is how the works are asked for",
    Nature.approved_work.value: "a work done under an approval is not a breach",
    Nature.natural_event.value: "a natural event (a wildfire, a landslide) is no one's act: "
    "the articles name acts (burning to clear land, building, digging)",
}


def why_not(rule: dict[str, Any], incident: dict[str, Any]) -> str | None:
    """None when the rule applies; else the reason it does not, first reason first."""
    if incident["nature"] != Nature.act.value:
        return _NOT_AN_ACT[incident["nature"]]
    exempt = sorted(set(rule["exempt_tags"]) & set(incident["tags"]))
    if exempt:
        return f"exempted by the tag {', '.join(exempt)}"
    if rule["zone_code"] is not None and rule["zone_code"] not in incident["zones"]:
        return f"outside the zone {rule['zone_code']}"
    return None


async def assessment(
    session: AsyncSession, incident_id: uuid.UUID, *, caller: Caller
) -> dict[str, Any]:
    await incident_queries.incident_feature_json(session, incident_id, caller=caller)  # 404
    incident = dict(
        (
            await session.execute(
                text(
                    "SELECT border_id, category, nature, tags, zones, breaches FROM incidents "
                    "WHERE id = :id"
                ),
                {"id": incident_id},
            )
        )
        .one()
        ._mapping
    )
    rules = [
        dict(r._mapping)
        for r in await session.execute(
            text(
                "SELECT article, zone_code, summary, exempt_tags FROM breach_rules "
                "WHERE border_id = :b AND category = :c ORDER BY article, zone_code"
            ),
            {"b": incident["border_id"], "c": incident["category"]},
        )
    ]
    reviews = {
        r.article: {
            "verdict": r.verdict,
            "note": r.note,
            "by": r.reviewed_by,
            "at": r.reviewed_at.isoformat(),
        }
        for r in await session.execute(
            text(
                "SELECT article, verdict, note, reviewed_by, reviewed_at FROM breach_reviews "
                "WHERE incident_id = :id"
            ),
            {"id": incident_id},
        )
    }
    suggested = {(b["article"], b["zone"]): b for b in incident["breaches"]}
    assessed = []
    for rule in rules:
        hit = suggested.get((rule["article"], rule["zone_code"]))
        reason = hit["why"] if hit and "why" in hit else why_not(rule, incident)
        assessed.append(
            {
                "article": rule["article"],
                "zone": rule["zone_code"],
                "summary": rule["summary"],
                "suggested": hit is not None,
                "why": reason or "applies",
                "review": reviews.get(rule["article"]),
            }
        )
    return {
        "id": str(incident_id),
        "category": incident["category"],
        "nature": incident["nature"],
        "rules": assessed,
        "confirmed": sorted(a for a, r in reviews.items() if r["verdict"] == "confirmed"),
        "rejected": sorted(a for a, r in reviews.items() if r["verdict"] == "rejected"),
    }
