"""Changes to a stored incident: edits (PATCH) and lifecycle transitions, each under the
incident's row lock and its version, written with its history, audit and event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.service import require_area
from app.audit.service import record
from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import require_role
from app.errors import InvalidInput, NotFound, check_version
from app.incidents.context import compute_context
from app.incidents.history import emit_events, write_history
from app.incidents.lifecycle import require_transition
from app.incidents.location import Place, resolve_place
from app.incidents.models import Status
from app.incidents.queries import require_visible, visibility
from app.incidents.schemas import IncidentPatch, TransitionRequest
from app.incidents.submission import require_category, search_text
from app.params import input_epsg

_CURRENT_SQL = """
SELECT i.id, i.version, i.status, i.category, i.title, i.description, i.occurred_at,
       i.severity, i.tags, i.nature, i.location_ref, i.border_id, b.code AS border,
       i.province_code,
       encode(ST_AsBinary(i.geom), 'hex') AS wkb
FROM incidents i JOIN borders b ON b.id = i.border_id WHERE i.id = :id FOR UPDATE OF i
"""


async def load_writable(session: AsyncSession, caller: Caller, incident_id: uuid.UUID) -> Any:
    """The incident, locked for this transaction, once the caller may change it: 404 when
    the caller cannot see it, 403 outside its area (a reporter's district)."""
    current = (await session.execute(text(_CURRENT_SQL), {"id": incident_id})).one_or_none()
    if current is None:
        raise NotFound(f"no incident {incident_id}")
    require_visible(caller, current.province_code, incident_id)
    await require_area(session, caller, wkb_hex=current.wkb, what=f"incident {incident_id}")
    return current


_EDITABLE = ("category", "title", "description", "occurred_at", "severity", "tags", "nature")


async def patch_and_commit(
    session: AsyncSession,
    *,
    caller: Caller,
    incident_id: uuid.UUID,
    patch: IncidentPatch,
    if_match: int | None,
    crs_param: str | None,
    max_vertices: int,
) -> None:
    """Reporters add information in their district, officers edit in their province.
    Needs If-Match. A new place, category or time recomputes the context. Commits."""
    require_role(caller, Role.reporter, Role.officer)
    current = await load_writable(session, caller, incident_id)
    check_version(current.version, if_match, what=f"incident {incident_id}", required=True)
    fields = patch.model_fields_set
    values: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    for name in _EDITABLE:
        if name not in fields:
            continue
        new = getattr(patch, name)
        if new is None and name in (
            "category",
            "title",
            "occurred_at",
            "severity",
            "tags",
            "nature",
        ):
            raise InvalidInput(f"{name} cannot be cleared", field=name)
        old = getattr(current, name)
        stored_new = new.value if hasattr(new, "value") else new
        if stored_new != old:
            values[name] = stored_new
            changes[name] = {"from": old, "to": stored_new}
    if "category" in values:
        await require_category(session, values["category"], "category")
    place: Place | None = None
    if patch.geometry is not None or patch.location is not None:
        place = await resolve_place(
            session,
            geometry=patch.geometry,
            location=patch.location,
            epsg=input_epsg(crs_param, patch.crs),
            border_hint=current.border,
            max_vertices=max_vertices,
        )
        await require_area(session, caller, wkb_hex=place.wkb_hex, what="the new place")
        if place.wkb_hex.lower() != str(current.wkb).lower():
            changes["geometry"] = {
                "location": {"from": current.location_ref, "to": place.location_ref}
            }
        else:
            place = None
    if not changes:
        return
    assignments = [f"{name} = :{name}" for name in values]  # names from _EDITABLE only
    params: dict[str, Any] = {**values, "id": incident_id}
    if place is not None:
        assignments += [
            "geom = ST_GeomFromWKB(decode(:wkb, 'hex'), 4326)",
            "location_ref = :location_ref",
            "border_id = :border_id",
        ]
        params.update(wkb=place.wkb_hex, location_ref=place.location_ref, border_id=place.border_id)
    merged = {
        name: values.get(name, getattr(current, name)) for name in ("title", "description", "tags")
    }
    assignments.append("search_text = :search")
    params["search"] = search_text(merged["title"], merged["description"], merged["tags"])
    await session.execute(
        text(
            f"UPDATE incidents SET {', '.join(assignments)}, version = version + 1, "  # noqa: S608
            "updated_at = now() WHERE id = :id"
        ),
        params,
    )
    if place is not None or {"category", "occurred_at", "tags", "nature"} & set(values):
        await compute_context(session, [incident_id])
    await write_history(session, entries=[(incident_id, changes)], caller=caller, action="updated")
    record(
        session,
        caller=caller,
        action="incident.update",
        entity_type="incident",
        entity_id=str(incident_id),
        detail={"fields": sorted(changes)},
    )
    await session.commit()


async def transition_and_commit(
    session: AsyncSession,
    *,
    caller: Caller,
    incident_id: uuid.UUID,
    request: TransitionRequest,
    if_match: int | None,
) -> None:
    """Officers move incidents of their province through the lifecycle. Commits."""
    require_role(caller, Role.officer)
    current = await load_writable(session, caller, incident_id)
    check_version(current.version, if_match, what=f"incident {incident_id}", required=False)
    source = Status(current.status)
    require_transition(source, request.to)
    if request.duplicate_of is not None:
        if request.duplicate_of == incident_id:
            raise InvalidInput("an incident cannot duplicate itself", field="duplicate_of")
        # Only one the officer may see: another province's id is as unknown as a random one.
        visible = visibility(caller).bind(d=request.duplicate_of)
        exists = (
            await session.execute(
                text(f"SELECT 1 FROM incidents i WHERE i.id = :d AND {visible.text}"),  # noqa: S608
                visible.params,
            )
        ).first()
        if exists is None:
            raise InvalidInput(f"no incident {request.duplicate_of}", field="duplicate_of")
    now = request.effective_at or datetime.now(UTC)
    if request.effective_at is not None and request.effective_at < current.occurred_at:
        raise InvalidInput(
            f"effective_at {request.effective_at.isoformat()} is before the event "
            f"({current.occurred_at.isoformat()})",
            field="effective_at",
        )
    await session.execute(
        text(
            """
            UPDATE incidents SET status = CAST(:to AS varchar), version = version + 1,
              updated_at = now(),
              resolved_at = CASE WHEN CAST(:to AS varchar) = 'resolved'
                                 THEN CAST(:now AS timestamptz) ELSE NULL END,
              dismissal_reason = CASE WHEN CAST(:to AS varchar) = 'dismissed'
                                      THEN CAST(:reason AS varchar) ELSE NULL END,
              duplicate_of = CASE WHEN CAST(:to AS varchar) = 'dismissed'
                                  THEN CAST(:dup AS uuid) ELSE NULL END
            WHERE id = :id
            """
        ),
        {
            "to": request.to.value,
            "now": now,
            "reason": request.reason,
            "dup": request.duplicate_of,
            "id": incident_id,
        },
    )
    changes: dict[str, Any] = {"status": {"from": source.value, "to": request.to.value}}
    if request.reason:
        changes["reason"] = request.reason
    if request.duplicate_of:
        changes["duplicate_of"] = str(request.duplicate_of)
    if request.effective_at is not None:
        changes["effective_at"] = request.effective_at.isoformat()
    await write_history(
        session,
        entries=[(incident_id, changes)],
        caller=caller,
        action="transition",
        note=request.note,
        document_ref=request.document_ref,
        effective_at=request.effective_at,
    )
    record(
        session,
        caller=caller,
        action="incident.transition",
        entity_type="incident",
        entity_id=str(incident_id),
        detail=changes,
    )
    await emit_events(session, "incident.transitioned", [(incident_id, changes)])
    await session.commit()
