"""Steps that settle an incident, and the breach articles an officer confirms or rejects.
Officers write them in their province (as they move incidents through the lifecycle);
whoever sees the incident reads them."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, time
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import require_role
from app.cases.schemas import BreachReviewCreate, StepCreate
from app.db import plain_row
from app.documents.citations import format_citation
from app.documents.models import LinkTarget
from app.documents.service import cite, documents_citing
from app.errors import Conflict, InvalidInput
from app.incidents import queries as incident_queries
from app.incidents.edits import load_writable, transition_and_commit
from app.incidents.lifecycle import require_transition
from app.incidents.models import Status
from app.incidents.schemas import TransitionRequest
from app.timestamps import LOCAL

# A step's day as an instant: noon, Vietnam time (the day stays the day in any zone
# from UTC-11 to UTC+12, so a summary by local day counts it where it happened).
STEP_TIME = time(12, 0)


async def _writable_incident(session: AsyncSession, caller: Caller, incident_id: uuid.UUID) -> Any:
    require_role(caller, Role.officer)
    return await load_writable(session, caller, incident_id)


async def _document_citation(session: AsyncSession, document_id: uuid.UUID) -> str:
    row = (
        await session.execute(
            text("SELECT kind, number, issued_on FROM documents WHERE id = :id"),
            {"id": document_id},
        )
    ).first()
    if row is None:
        raise InvalidInput(f"no document {document_id}", field="document_id")
    return format_citation(row.kind, row.number, row.issued_on)


async def add_step(
    session: AsyncSession, *, caller: Caller, incident_id: uuid.UUID, body: StepCreate
) -> tuple[uuid.UUID, bool]:
    """(step id, created). A resent step (same id) answers the stored one. Commits."""
    incident = await _writable_incident(session, caller, incident_id)
    step_id = body.id or uuid.uuid4()
    stored = (
        await session.execute(
            text("SELECT incident_id, kind, happened_on FROM incident_steps WHERE id = :id"),
            {"id": step_id},
        )
    ).first()
    if stored is not None:
        if (stored.incident_id, stored.kind, stored.happened_on) != (
            incident_id, body.kind.value, body.happened_on
        ):  # fmt: skip
            raise Conflict(
                f"step {step_id} was already recorded with other content",
                extra={"id": str(step_id)},
            )
        return step_id, False
    if body.happened_on < incident.occurred_at.astimezone(LOCAL).date():
        raise InvalidInput(
            f"the step ({body.happened_on}) comes before the event "
            f"({incident.occurred_at.astimezone(LOCAL).date()})",
            field="happened_on",
        )
    citation = await _document_citation(session, body.document_id) if body.document_id else None
    if body.status is not None:
        # Refused before anything is written: the step goes in with its move or not at all.
        require_transition(Status(incident.status), body.status)
    await session.execute(
        text(
            """
            INSERT INTO incident_steps (id, incident_id, kind, happened_on, level, body,
                counterpart, place, participants, summary, document_id, illustrative,
                recorded_by)
            VALUES (:id, :incident, :kind, :day, :level, :body, :counterpart, :place,
                CAST(:participants AS jsonb), :summary, :doc, :illustrative, :by)
            """
        ),
        {
            "id": step_id,
            "incident": incident_id,
            "kind": body.kind.value,
            "day": body.happened_on,
            "level": body.level.value if body.level else None,
            "body": body.body,
            "counterpart": body.counterpart,
            "place": body.place,
            "participants": body.participants.model_dump_json(),
            "summary": body.summary,
            "doc": body.document_id,
            "illustrative": body.illustrative,
            "by": caller.name,
        },
    )
    if body.document_id is not None:
        await cite(
            session,
            body.document_id,
            [(LinkTarget.step, str(step_id)), (LinkTarget.incident, str(incident_id))],
            body.section,
        )
    record(
        session,
        caller=caller,
        action="incident.step",
        entity_type="incident",
        entity_id=str(incident_id),
        detail={"step": str(step_id), "kind": body.kind.value, "on": body.happened_on.isoformat()},
    )
    if body.status is None:
        await session.commit()
        return step_id, True
    # The transition commits the step with it, or refuses both.
    await transition_and_commit(
        session,
        caller=caller,
        incident_id=incident_id,
        request=TransitionRequest(
            to=body.status,
            note=f"step {body.kind.value} of {body.happened_on.isoformat()}",
            document_ref=citation or f"step {step_id}",
            effective_at=datetime.combine(body.happened_on, STEP_TIME, tzinfo=LOCAL),
        ),
        if_match=None,
    )
    return step_id, True


_STEP_JSON = """
SELECT s.id, s.kind, s.happened_on, s.level, s.body, s.counterpart, s.place, s.participants,
       s.summary, s.document_id, s.illustrative, s.recorded_by, s.recorded_at
FROM incident_steps s WHERE s.incident_id = :id ORDER BY s.happened_on, s.recorded_at, s.id
"""


async def steps_of(
    session: AsyncSession, incident_id: uuid.UUID, *, caller: Caller
) -> list[dict[str, Any]]:
    await incident_queries.incident_feature_json(session, incident_id, caller=caller)  # 404
    rows = (await session.execute(text(_STEP_JSON), {"id": incident_id})).all()
    cited = await documents_citing(session, LinkTarget.step, [str(r.id) for r in rows])
    steps = []
    for r in rows:
        step = plain_row(r._mapping)
        step["documents"] = cited.get(step["id"], [])
        steps.append(step)
    return steps


async def review_breach(
    session: AsyncSession, *, caller: Caller, incident_id: uuid.UUID, body: BreachReviewCreate
) -> None:
    """Confirm or reject an article for an incident: one of the rules of its border and
    category (suggested or not). A second review replaces the first. Commits."""
    await _writable_incident(session, caller, incident_id)
    known = (
        (
            await session.execute(
                text(
                    "SELECT DISTINCT r.article FROM breach_rules r JOIN incidents i "
                    "ON i.border_id = r.border_id AND i.category = r.category WHERE i.id = :id"
                ),
                {"id": incident_id},
            )
        )
        .scalars()
        .all()
    )
    if body.article not in known:
        raise InvalidInput(
            f"no rule of this incident's border and category names {body.article!r}; "
            f"known: {', '.join(sorted(known)) or 'none'}",
            field="article",
        )
    await session.execute(
        text(
            """
            INSERT INTO breach_reviews (incident_id, article, verdict, note, reviewed_by)
            VALUES (:i, :a, :v, :n, :by)
            ON CONFLICT (incident_id, article) DO UPDATE SET verdict = excluded.verdict,
              note = excluded.note, reviewed_by = excluded.reviewed_by, reviewed_at = now()
            """
        ),
        {
            "i": incident_id,
            "a": body.article,
            "v": body.verdict.value,
            "n": body.note,
            "by": caller.name,
        },
    )
    await session.execute(
        text(
            "INSERT INTO incident_history (incident_id, actor_token_id, actor_name, action, "
            "changes, note) VALUES (:i, :t, :n, 'breach_reviewed', CAST(:c AS jsonb), :note)"
        ),
        {
            "i": incident_id,
            "t": caller.token_id,
            "n": caller.name,
            "c": json.dumps({"article": body.article, "verdict": body.verdict.value}),
            "note": body.note,
        },
    )
    record(
        session,
        caller=caller,
        action="incident.breach_review",
        entity_type="incident",
        entity_id=str(incident_id),
        detail={"article": body.article, "verdict": body.verdict.value},
    )
    await session.commit()
