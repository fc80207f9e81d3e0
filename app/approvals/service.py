"""Approval procedures for works on the border. Officers record the requests of their
province (ours, or the other side's for a stretch of their province), stage by stage.
Officers and reporters read their province's; admins and analysts all."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.approvals.models import NEXT, Stage
from app.approvals.schemas import ApprovalCreate, StageCreate
from app.areas.placement import UNIT_REACH_M, unit_at
from app.audit.service import record
from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import read_scope, require_province, require_role
from app.borders.service import border_id_of
from app.db import plain_row, require_row
from app.documents.citations import format_citation
from app.documents.models import LinkTarget
from app.documents.service import cite, documents_citing
from app.errors import Conflict, InvalidInput, NotFound
from app.geojson import COORD_DECIMALS
from app.incidents.location import from_location
from app.sql import Sql

# The province a place lies in today, for a request given by its location only: the one
# placement rule.
_PROVINCE_OF = f"""
SELECT {unit_at("province", geom="p.g", day="current_date", gtype="GeometryType(p.g)")}
FROM (SELECT ST_GeomFromWKB(decode(:wkb, 'hex'), 4326) AS g) p
"""  # noqa: S608


async def _insert_stage(
    session: AsyncSession, *, caller: Caller, request_id: uuid.UUID, stage: StageCreate
) -> None:
    await require_row(session, "documents", stage.document_id, field="document_id")
    await session.execute(
        text(
            """
            INSERT INTO approval_stages (request_id, stage, happened_on, body, document_id,
                note, illustrative, recorded_by)
            VALUES (:r, :stage, :day, :body, :doc, :note, :illustrative, :by)
            """
        ),
        {
            "r": request_id,
            "stage": stage.stage.value,
            "day": stage.happened_on,
            "body": stage.body,
            "doc": stage.document_id,
            "note": stage.note,
            "illustrative": stage.illustrative,
            "by": caller.name,
        },
    )
    if stage.document_id is not None:
        await cite(
            session, stage.document_id, [(LinkTarget.approval, str(request_id))], stage.section
        )


async def create_request(
    session: AsyncSession, *, caller: Caller, body: ApprovalCreate
) -> tuple[uuid.UUID, bool]:
    require_role(caller, Role.officer)
    border_id = await border_id_of(session, body.border)
    province = body.province
    location_ref = wkb = None
    if body.location:
        place = await from_location(session, body.location, body.border)
        location_ref, wkb = place.location_ref, place.wkb_hex
        if province is None:
            province = (
                await session.execute(
                    text(_PROVINCE_OF), {"wkb": place.wkb_hex, "reach": UNIT_REACH_M}
                )
            ).scalar_one_or_none()
    province = province or caller.province_code
    require_province(caller, province, what="the request")
    await require_row(session, "clearing_works", body.work_id, field="work_id")
    await require_row(session, "incidents", body.incident_id, field="incident_id")
    request_id = body.id or uuid.uuid4()
    stored = (
        await session.execute(
            text("SELECT work_title FROM approval_requests WHERE id = :id"), {"id": request_id}
        )
    ).first()
    if stored is not None:
        if stored.work_title != body.work_title:
            raise Conflict(
                f"approval request {request_id} was already recorded with other content",
                extra={"id": str(request_id)},
            )
        return request_id, False
    await session.execute(
        text(
            """
            INSERT INTO approval_requests (id, border_id, requested_by_side, requester,
                work_title, work_kind, location_ref, gate_name, province_code, status,
                work_id, incident_id, illustrative, note, created_by, geom)
            SELECT :id, :border, :side, :requester, :title, :kind, :loc, :gate, :province,
                'submitted', :work, :incident, :illustrative, :note, :by,
                CASE GeometryType(g) WHEN 'POINT' THEN g
                     WHEN 'LINESTRING' THEN ST_LineInterpolatePoint(g, 0.5)
                     ELSE ST_PointOnSurface(g) END
            FROM (SELECT ST_GeomFromWKB(decode(CAST(:wkb AS text), 'hex'), 4326) AS g) place
            """
        ),
        {
            "id": request_id,
            "border": border_id,
            "side": body.requested_by_side.value,
            "requester": body.requester,
            "title": body.work_title,
            "kind": body.work_kind,
            "loc": location_ref,
            "gate": body.gate_name,
            "province": province,
            "work": body.work_id,
            "incident": body.incident_id,
            "illustrative": body.illustrative,
            "note": body.note,
            "by": caller.name,
            "wkb": wkb,
        },
    )
    await _insert_stage(session, caller=caller, request_id=request_id, stage=body.submitted)
    record(
        session,
        caller=caller,
        action="approval.create",
        entity_type="approval",
        entity_id=str(request_id),
        detail={"side": body.requested_by_side.value, "province": province},
    )
    await session.commit()
    return request_id, True


async def add_stage(
    session: AsyncSession, *, caller: Caller, request_id: uuid.UUID, stage: StageCreate
) -> None:
    """The next stage: in order of days, never after a decision. Commits."""
    require_role(caller, Role.officer)
    current = (
        await session.execute(
            text(
                "SELECT r.status, r.province_code, (SELECT max(s.happened_on) FROM "
                "approval_stages s WHERE s.request_id = r.id) AS last_day "
                "FROM approval_requests r WHERE r.id = :id FOR UPDATE OF r"
            ),
            {"id": request_id},
        )
    ).first()
    if current is None:
        raise NotFound(f"no approval request {request_id}")
    require_province(caller, current.province_code, what=f"approval request {request_id}")
    status = Stage(current.status)
    if stage.stage not in NEXT[status]:
        allowed = sorted(s.value for s in NEXT[status])
        raise Conflict(
            f"a request {status.value} cannot be {stage.stage.value}; "
            f"allowed next: {', '.join(allowed) or 'none'}",
            extra={"current": status.value, "allowed": allowed},
        )
    if current.last_day is not None and stage.happened_on < current.last_day:
        raise InvalidInput(
            f"the stage ({stage.happened_on}) comes before the last one ({current.last_day})",
            field="happened_on",
        )
    await _insert_stage(session, caller=caller, request_id=request_id, stage=stage)
    await session.execute(
        text(
            "UPDATE approval_requests SET status = :s, version = version + 1, updated_at = now() "
            "WHERE id = :id"
        ),
        {"s": stage.stage.value, "id": request_id},
    )
    record(
        session,
        caller=caller,
        action="approval.stage",
        entity_type="approval",
        entity_id=str(request_id),
        detail={"from": status.value, "to": stage.stage.value},
    )
    await session.commit()


# The OGC collection's feature: the request where its work would stand.
APPROVAL_FEATURE = f"""
json_build_object('type', 'Feature', 'id', r.id,
  'geometry', ST_AsGeoJSON(r.geom, {COORD_DECIMALS})::json,
  'properties', json_build_object('border', b.code, 'requested_by_side', r.requested_by_side,
    'requester', r.requester, 'work_title', r.work_title, 'work_kind', r.work_kind,
    'location', r.location_ref, 'gate_name', r.gate_name, 'province', r.province_code,
    'status', r.status, 'work_id', r.work_id, 'incident_id', r.incident_id,
    'submitted_on', (SELECT min(s.happened_on) FROM approval_stages s
                     WHERE s.request_id = r.id),
    'illustrative', r.illustrative, 'note', r.note, 'version', r.version))
"""  # noqa: S608

_REQUEST_SQL = """
SELECT r.id, b.code AS border, r.requested_by_side, r.requester, r.work_title, r.work_kind,
       r.location_ref, r.gate_name, r.province_code AS province, r.status, r.work_id,
       r.incident_id, r.illustrative, r.note, r.version, r.created_at, r.updated_at,
       (SELECT min(s.happened_on) FROM approval_stages s WHERE s.request_id = r.id) AS submitted_on,
       (SELECT max(s.happened_on) FROM approval_stages s WHERE s.request_id = r.id) AS last_on
FROM approval_requests r JOIN borders b ON b.id = r.border_id
"""


_VISIBLE = "(CAST(:scope AS text) IS NULL OR r.province_code = :scope)"


def visibility(caller: Caller) -> Sql:
    """The requests a caller reads, as SQL over `r` (the OGC collection uses it too)."""
    return Sql(_VISIBLE, {"scope": read_scope(caller)})


async def get_request(
    session: AsyncSession, request_id: uuid.UUID, *, caller: Caller
) -> dict[str, Any]:
    row = (
        await session.execute(
            text(_REQUEST_SQL + f" WHERE r.id = :id AND {_VISIBLE}"),
            {"id": request_id, "scope": read_scope(caller)},
        )
    ).first()
    if row is None:
        raise NotFound(f"no approval request {request_id}")
    request = plain_row(row._mapping)
    stages = await session.execute(
        text(
            "SELECT s.stage, s.happened_on, s.body, s.document_id, s.note, s.illustrative, "
            "s.recorded_by, s.recorded_at, d.kind, d.number, d.issued_on AS document_issued_on "
            "FROM approval_stages s LEFT JOIN documents d ON d.id = s.document_id "
            "WHERE s.request_id = :id ORDER BY s.happened_on, s.id"
        ),
        {"id": request_id},
    )
    request["stages"] = []
    for s in stages:
        stage = plain_row(s._mapping)
        kind, number, issued = stage.pop("kind"), stage.pop("number"), s.document_issued_on
        stage.pop("document_issued_on")
        stage["document"] = format_citation(kind, number, issued) if kind else None
        request["stages"].append(stage)
    request["documents"] = (
        await documents_citing(session, LinkTarget.approval, [request["id"]])
    ).get(request["id"], [])
    return request


async def list_requests(
    session: AsyncSession,
    *,
    caller: Caller,
    province: str | None,
    status: list[str],
    side: str | None,
    year: int | None,
    work_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    clauses = [visibility(caller)]
    if province:
        clauses.append(Sql("r.province_code = :province", {"province": province}))
    if status:
        clauses.append(Sql("r.status = ANY(:status)", {"status": status}))
    if side:
        clauses.append(Sql("r.requested_by_side = :side", {"side": side}))
    if year:
        staged_in_year = (
            "EXISTS (SELECT 1 FROM approval_stages s WHERE s.request_id = r.id "
            "AND extract(year FROM s.happened_on) = :year)"
        )
        clauses.append(Sql(staged_in_year, {"year": year}))
    if work_id:
        clauses.append(Sql("r.work_id = :work", {"work": work_id}))
    where = Sql.all(clauses)
    total = (
        await session.execute(
            text(f"SELECT count(*) FROM approval_requests r WHERE {where.text}"),  # noqa: S608
            where.params,
        )
    ).scalar_one()
    rows = await session.execute(
        text(
            _REQUEST_SQL + f" WHERE {where.text} ORDER BY submitted_on DESC NULLS LAST, r.id "
            "LIMIT :limit OFFSET :offset"
        ),
        where.bind(limit=limit, offset=offset).params,
    )
    return [plain_row(r._mapping) for r in rows], int(total)
