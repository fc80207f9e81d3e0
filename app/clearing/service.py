"""Writes to clearing works: create (with overlap report), edit, record completed parts."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import shapely
from shapely.geometry import shape
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.placement import UNIT_REACH_M, unit_at
from app.areas.service import require_area
from app.audit.service import record
from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import require_role
from app.borders.service import border_id_of
from app.chainage.service import ResolvedRange, resolve_prefixed_range
from app.clearing.completions import load_for_update, mark_completed
from app.clearing.models import OPEN_WORK_STATES, WorkStatus
from app.clearing.schemas import WorkCreate, WorkPatch
from app.errors import Conflict, InvalidInput, check_version
from app.timestamps import local_today

# The stretch is cut into pieces this long, each placed by the one placement rule (robust
# where a district's edge and the line differ by rounding).
DISTRICT_PIECE_M = 100.0

_COMMUNE = unit_at(
    "commune",
    geom="pl.mid",
    day=":day",
    within="(pl.district IS NULL OR u.parent_code = pl.district)",
)
_PIECES_PLACED = f"""
WITH stretch AS (
  SELECT bordermark_stretch(measured_geom, :m1, :m2) AS g FROM borders WHERE id = :b
), pieces AS (
  SELECT (ST_DumpSegments(ST_Segmentize(g::geography, :piece)::geometry)).geom AS p
  FROM stretch
), placed AS (
  SELECT ST_Length(p::geography) AS len, m.mid,
         {unit_at("district", geom="m.mid", day=":day")} AS district,
         {unit_at("province", geom="m.mid", day=":day")} AS province
  FROM pieces, LATERAL (SELECT ST_LineInterpolatePoint(p, 0.5) AS mid) m
), communed AS (
  -- A commune of the piece's district while there were districts, as for incidents.
  SELECT pl.*, {_COMMUNE} AS commune FROM placed pl
)
SELECT district, commune, province, round(sum(len)::numeric, 1) AS length_m FROM communed
WHERE province IS NOT NULL OR district IS NOT NULL OR commune IS NOT NULL
GROUP BY district, commune, province ORDER BY district, commune, province
"""  # noqa: S608


@dataclass(frozen=True)
class UnitsAlong:
    """The units (valid on a day) a stretch runs along: districts and communes with the
    metres in each, and the provinces its pieces lie in."""

    districts: list[dict[str, Any]]
    communes: list[dict[str, Any]]
    provinces: list[str]


def _metres_in(rows: list[Any], column: int) -> list[dict[str, Any]]:
    metres: dict[str, float] = {}
    for row in rows:
        if row[column] is not None:
            metres[row[column]] = metres.get(row[column], 0.0) + float(row[-1])
    return [{"code": code, "length_m": round(m, 1)} for code, m in sorted(metres.items())]


async def _units_along(
    session: AsyncSession, *, border_id: int, start_m: float, end_m: float, day: date
) -> UnitsAlong:
    rows = (
        await session.execute(
            text(_PIECES_PLACED),
            {
                "b": border_id,
                "m1": start_m,
                "m2": end_m,
                "piece": DISTRICT_PIECE_M,
                "day": day,
                "reach": UNIT_REACH_M,
            },
        )
    ).all()
    return UnitsAlong(
        _metres_in(list(rows), 0),
        _metres_in(list(rows), 1),
        sorted({r[2] for r in rows if r[2] is not None}),
    )


async def _require_kind(session: AsyncSession, kind: str) -> None:
    known = (
        (await session.execute(text("SELECT code FROM clearing_work_kinds ORDER BY code")))
        .scalars()
        .all()
    )
    if kind not in known:
        raise InvalidInput(f"unknown kind {kind!r}; known: {', '.join(known)}", field="kind")


async def _require_incidents(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    if not ids:
        return
    found = set(
        (
            await session.execute(
                text("SELECT id FROM incidents WHERE id = ANY(:ids)"), {"ids": ids}
            )
        ).scalars()
    )
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise InvalidInput(f"no incident {', '.join(missing)}", field="incident_ids")


def _check_dates(
    planned_start: date | None,
    planned_end: date | None,
    actual_start: date | None,
    actual_end: date | None,
) -> None:
    if planned_start and planned_end and planned_end < planned_start:
        raise InvalidInput("planned_end comes before planned_start", field="planned_end")
    if actual_start and actual_end and actual_end < actual_start:
        raise InvalidInput("actual_end comes before actual_start", field="actual_end")


async def _require_stretch_scope(
    session: AsyncSession, caller: Caller, stretch: ResolvedRange
) -> None:
    line = shape(stretch.geometry)
    await require_area(
        session, caller, wkb_hex=str(shapely.to_wkb(line, hex=True)), what=f"stretch {stretch.ref}"
    )


@dataclass(frozen=True)
class CreatedWork:
    id: uuid.UUID
    created: bool
    overlaps: list[dict[str, Any]]


async def overlapping_open_works(
    session: AsyncSession,
    *,
    work_id: uuid.UUID,
    border_id: int,
    kind: str,
    start_m: float,
    end_m: float,
) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            """
            SELECT json_build_object('id', id, 'range', range_ref, 'status', status,
                     'overlap_m',
                     round((least(end_m, :e) - greatest(start_m, :s))::numeric, 1))::text
            FROM clearing_works
            WHERE border_id = :b AND kind = :k AND id <> :id AND status = ANY(:open)
              AND start_m < :e AND end_m > :s
            ORDER BY start_m
            """
        ),
        {
            "b": border_id,
            "k": kind,
            "id": work_id,
            "s": start_m,
            "e": end_m,
            "open": [s.value for s in OPEN_WORK_STATES],
        },
    )
    return [json.loads(r[0]) for r in rows]


async def create_work(session: AsyncSession, *, caller: Caller, body: WorkCreate) -> CreatedWork:
    """Officers record works on stretches in their province. Commits."""
    created = await insert_work(session, caller=caller, body=body)
    await session.commit()
    return created


async def insert_work(session: AsyncSession, *, caller: Caller, body: WorkCreate) -> CreatedWork:
    """Store a work (or recognise its replay by id). An overlap with another open work of
    the same kind is reported, not refused. Does not commit (imports share one commit)."""
    require_role(caller, Role.officer)
    await _require_kind(session, body.kind)
    _check_dates(body.planned_start, body.planned_end, body.actual_start, body.actual_end)
    stretch = await resolve_prefixed_range(session, body.range, field="range")
    await _require_stretch_scope(session, caller, stretch)
    await _require_incidents(session, body.incident_ids)
    border_id = await border_id_of(session, stretch.border)
    day = body.planned_start or body.actual_start or local_today()
    along = await _units_along(
        session,
        border_id=border_id,
        start_m=stretch.start.chainage_m,
        end_m=stretch.end.chainage_m,
        day=day,
    )
    work_id = body.id or uuid.uuid4()
    inserted = (
        await session.execute(
            text(
                """
                INSERT INTO clearing_works (id, border_id, range_ref, start_m, end_m, length_m,
                    geom, kind, approval_body, approval_ref, approval_year, party, planned_start,
                    planned_end, actual_start, actual_end, status, notes, districts,
                    communes, province_codes)
                SELECT :id, b.id, :ref, :s, :e, ST_Length(g.geom::geography), g.geom, :kind,
                    :a_body, :a_ref, :a_year, :party, :ps, :pe, :as_, :ae, :status, :notes,
                    CAST(:districts AS jsonb), CAST(:communes AS jsonb),
                    CAST(:provinces AS jsonb)
                FROM borders b,
                  LATERAL (SELECT bordermark_stretch(b.measured_geom, :s, :e) AS geom) g
                WHERE b.id = :b
                ON CONFLICT (id) DO NOTHING
                RETURNING id
                """
            ),
            {
                "id": work_id,
                "ref": f"{stretch.border}:{stretch.ref}",
                "s": stretch.start.chainage_m,
                "e": stretch.end.chainage_m,
                "kind": body.kind,
                "a_body": body.approval.body,
                "a_ref": body.approval.ref,
                "a_year": body.approval.year,
                "party": body.party.value,
                "ps": body.planned_start,
                "pe": body.planned_end,
                "as_": body.actual_start,
                "ae": body.actual_end,
                "status": body.status.value,
                "notes": body.notes,
                "districts": json.dumps(along.districts),
                "communes": json.dumps(along.communes),
                "provinces": json.dumps(along.provinces),
                "b": border_id,
            },
        )
    ).scalar_one_or_none()
    if inserted is None:
        existing = (
            await session.execute(
                text("SELECT range_ref, kind FROM clearing_works WHERE id = :id"), {"id": work_id}
            )
        ).one()
        if (existing.range_ref, existing.kind) != (f"{stretch.border}:{stretch.ref}", body.kind):
            raise Conflict(f"clearing work {work_id} exists for another stretch or kind")
        return CreatedWork(work_id, False, [])
    await _link_incidents(session, work_id, body.incident_ids)
    if body.status is WorkStatus.completed:
        await mark_completed(session, work_id, body.actual_end or date.today())
    overlaps = await overlapping_open_works(
        session,
        work_id=work_id,
        border_id=border_id,
        kind=body.kind,
        start_m=stretch.start.chainage_m,
        end_m=stretch.end.chainage_m,
    )
    record(
        session,
        caller=caller,
        action="clearing_work.create",
        entity_type="clearing_work",
        entity_id=str(work_id),
        detail={"range": stretch.ref, "kind": body.kind, "overlaps": len(overlaps)},
    )
    return CreatedWork(work_id, True, overlaps)


async def _link_incidents(session: AsyncSession, work_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    for incident_id in ids:
        await session.execute(
            text(
                "INSERT INTO clearing_work_incidents (work_id, incident_id) VALUES (:w, :i) "
                "ON CONFLICT DO NOTHING"
            ),
            {"w": work_id, "i": incident_id},
        )


_PATCHABLE = ("status", "planned_start", "planned_end", "actual_start", "actual_end", "notes")


async def patch_work(
    session: AsyncSession,
    *,
    caller: Caller,
    work_id: uuid.UUID,
    patch: WorkPatch,
    if_match: int | None,
) -> None:
    require_role(caller, Role.officer)
    current = await load_for_update(session, work_id)
    await require_area(session, caller, wkb_hex=current.wkb, what=f"clearing work {work_id}")
    check_version(current.version, if_match, what=f"clearing work {work_id}", required=True)
    values: dict[str, Any] = {}
    for name in _PATCHABLE:
        if name in patch.model_fields_set:
            new = getattr(patch, name)
            if name == "status" and new is None:
                raise InvalidInput("status cannot be cleared", field="status")
            stored = new.value if hasattr(new, "value") else new
            if stored != getattr(current, name):
                values[name] = stored
    if patch.approval is not None:
        values.update(
            approval_body=patch.approval.body,
            approval_ref=patch.approval.ref,
            approval_year=patch.approval.year,
        )
    merged = {
        n: values.get(n, getattr(current, n))
        for n in ("planned_start", "planned_end", "actual_start", "actual_end")
    }
    _check_dates(**merged)
    if patch.incident_ids is not None:
        await _require_incidents(session, patch.incident_ids)
        await session.execute(
            text("DELETE FROM clearing_work_incidents WHERE work_id = :w"), {"w": work_id}
        )
        await _link_incidents(session, work_id, patch.incident_ids)
    if values:
        assignments = ", ".join(f"{n} = :{n}" for n in values)  # names from a fixed list
        await session.execute(
            text(
                f"UPDATE clearing_works SET {assignments}, version = version + 1, "  # noqa: S608
                "updated_at = now() WHERE id = :id"
            ),
            {**values, "id": work_id},
        )
    elif patch.incident_ids is None:
        return
    else:
        await session.execute(
            text(
                "UPDATE clearing_works SET version = version + 1, updated_at = now() WHERE id = :id"
            ),
            {"id": work_id},
        )
    if values.get("status") == WorkStatus.completed.value:
        await mark_completed(session, work_id, merged["actual_end"] or date.today())
    record(
        session,
        caller=caller,
        action="clearing_work.update",
        entity_type="clearing_work",
        entity_id=str(work_id),
        detail={"fields": sorted(values)},
    )
    await session.commit()
