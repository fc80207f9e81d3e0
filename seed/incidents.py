"""Demo incidents: the border events of the seed reports (Lạng Sơn 2020, Cao Bằng 2023),
placed by their marker or chainage, taken through the lifecycle to a plausible status.
Ids are derived from a stable key, so loading twice stores nothing new."""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.auth.models import Role
from app.incidents.models import Status
from app.incidents.schemas import IncidentSubmission, TransitionRequest
from app.incidents.service import submit, transition

DATA = Path(__file__).parent / "data" / "incidents.csv"
NAMESPACE = uuid.UUID("6f1d2c1e-93a4-4c55-9f0e-6b6f7264656d")
SEED_CALLER = Caller(token_id=None, name="demo seed", role=Role.admin)

# The path through the lifecycle to each status.
PATH: dict[str, list[Status]] = {
    "reported": [],
    "verified": [Status.verified],
    "escalated": [Status.verified, Status.escalated],
    "in_negotiation": [Status.verified, Status.escalated, Status.in_negotiation],
    "resolved": [Status.verified, Status.resolved],
    "dismissed": [Status.dismissed],
}


def incident_id(key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, key)


async def load_demo_incidents(session: AsyncSession) -> int:
    """Submit each event once and walk it to its status. Commits. Returns how many were new."""
    with DATA.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    created = 0
    for row in rows:
        submission = IncidentSubmission.model_validate(
            {
                "type": "Feature",
                "id": str(incident_id(row["key"])),
                "location": row["location"],
                "properties": {
                    "category": row["category"],
                    "title": row["title"],
                    "description": f"{row['description']} Nguồn: {row['source']}.",
                    "occurred_at": row["occurred_at"],
                    "severity": row["severity"],
                    "reported_by": row["source"],
                    "tags": [t for t in row["tags"].split(";") if t],
                },
            }
        )
        outcome = await submit(
            session, caller=SEED_CALLER, submission=submission, crs_param=None, max_vertices=10_000
        )
        await session.commit()
        if outcome.result == "duplicate":
            continue
        created += 1
        for step in PATH[row["status"]]:
            await transition(
                session,
                caller=SEED_CALLER,
                incident_id=submission.id,
                request=TransitionRequest(
                    to=step,
                    note=f"Theo {row['source']}",
                    reason="not_a_violation" if step is Status.dismissed else None,
                ),
                if_match=None,
            )
    # Walking the lifecycle today would stamp today's date; a settled report of 2023
    # was settled then. Keep resolution dates plausible: a month after the event.
    await session.execute(
        text(
            "UPDATE incidents SET resolved_at = occurred_at + interval '30 days' "
            "WHERE status = 'resolved' AND id = ANY(:ids)"
        ),
        {"ids": [incident_id(r["key"]) for r in rows]},
    )
    await session.commit()
    return created
