"""Import rows one by one, each in its own savepoint: a bad row is reported with its number
and reason and stores nothing; the good ones are written in one transaction, committed
unless it is a dry run. Re-importing a file changes nothing that is already there."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import ValidationError
from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import require_role
from app.borders.service import border_id_of
from app.clearing.schemas import WorkCreate
from app.clearing.service import insert_work
from app.errors import Conflict, DomainError, InvalidInput
from app.geo.geometry import InvalidGeometry, parse_geometry
from app.geo.marker_codes import InvalidMarkerCode, MarkerKind, parse_marker_code
from app.imports.reader import Row
from app.incidents.intake import submit
from app.incidents.queries import visibility
from app.incidents.schemas import IncidentSubmission
from app.markers.models import MarkerCondition
from app.markers.service import (
    MarkerInput,
    check_offset,
    insert_marker,
    place_on_line,
    rebuild_segments,
)

Outcome = Literal["created", "updated", "unchanged"]
NAMESPACE = uuid.UUID("0b5c6a3e-5f0e-4a53-9a2c-696d706f7274")
# Positions closer than this (about 1 cm) are the same: a CRS round trip moves a point by
# a fraction of a millimetre, which must not count as a change.
SAME_PLACE_DEG = 1e-7


@dataclass
class RowError:
    row: int
    field: str
    message: str


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def _text(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _date(fields: dict[str, Any], name: str) -> date | None:
    value = _text(fields, name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise InvalidInput(
            f"{name} must be a date (YYYY-MM-DD), got {value!r}", field=name
        ) from exc


def _float(fields: dict[str, Any], name: str) -> float | None:
    value = _text(fields, name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise InvalidInput(f"{name} must be a number, got {value!r}", field=name) from exc


async def _import_marker(
    session: AsyncSession, row: Row, *, epsg: int, max_vertices: int, touched: set[int]
) -> Outcome:
    fields = row.fields
    border = _text(fields, "border")
    if border is None:
        raise InvalidInput("border is required (VN-CN, VN-LA, VN-KH)", field="border")
    try:
        code = parse_marker_code(_text(fields, "code") or "")
    except InvalidMarkerCode as exc:
        raise InvalidInput(str(exc), field="code") from exc
    try:
        point = parse_geometry(
            row.geometry, epsg=epsg, max_vertices=max_vertices, allowed_types=frozenset({"Point"})
        )
    except InvalidGeometry as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc
    assert isinstance(point, Point)
    condition_text = _text(fields, "condition") or MarkerCondition.intact.value
    kind_text = _text(fields, "kind")
    if condition_text not in {c.value for c in MarkerCondition}:
        allowed = ", ".join(c.value for c in MarkerCondition)
        raise InvalidInput(
            f"condition {condition_text!r} is not one of {allowed}", field="condition"
        )
    if kind_text and kind_text not in {k.value for k in MarkerKind}:
        allowed = ", ".join(k.value for k in MarkerKind)
        raise InvalidInput(f"kind {kind_text!r} is not one of {allowed}", field="kind")
    condition = MarkerCondition(condition_text)
    kind = MarkerKind(kind_text) if kind_text else None
    marker = MarkerInput(
        code=code,
        point=point,
        kind=kind,
        condition=condition,
        elevation_m=_float(fields, "elevation_m"),
        last_inspected_on=_date(fields, "last_inspected_on"),
        notes=_text(fields, "notes"),
    )
    border_id = await border_id_of(session, border)
    placement = await place_on_line(session, border_id=border_id, point=point)
    check_offset(placement, border)
    existing = (
        await session.execute(
            text(
                "SELECT id, ST_X(geom) AS lon, ST_Y(geom) AS lat, condition, elevation_m, "
                "last_inspected_on, notes FROM markers WHERE border_id = :b AND number = :n "
                "AND aux_index = :a AND bank_index = :k"
            ),
            {"b": border_id, "n": code.number, "a": code.aux, "k": code.bank},
        )
    ).one_or_none()
    touched.add(border_id)
    if existing is None:
        await insert_marker(session, border_id=border_id, marker=marker, placement=placement)
        return "created"
    same = (
        abs(existing.lon - point.x) < SAME_PLACE_DEG
        and abs(existing.lat - point.y) < SAME_PLACE_DEG
        and existing.condition == condition.value
        and existing.elevation_m == marker.elevation_m
        and existing.last_inspected_on == marker.last_inspected_on
        and existing.notes == marker.notes
    )
    if same:
        return "unchanged"
    await session.execute(
        text(
            """
            UPDATE markers SET geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),
              condition = :condition, elevation_m = :elevation, last_inspected_on = :inspected,
              notes = :notes, line_fraction = :frac, chainage_m = :chain,
              offset_from_line_m = :offset, province_code = :province,
              version = version + 1, updated_at = now()
            WHERE id = :id
            """
        ),
        {
            "lon": point.x,
            "lat": point.y,
            "condition": condition.value,
            "elevation": marker.elevation_m,
            "inspected": marker.last_inspected_on,
            "notes": marker.notes,
            "frac": placement.line_fraction,
            "chain": placement.chainage_m,
            "offset": placement.offset_from_line_m,
            "province": placement.province_code,
            "id": existing.id,
        },
    )
    return "updated"


def _tags(value: Any) -> list[str]:
    """A list in GeoJSON (the service's export; GDAL gives a JSON text instead when the
    file's arrays are not all strings), `a;b` in CSV, GeoPackage and KML."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    if isinstance(value, list):
        return [str(t).strip() for t in value if str(t).strip()]
    text_value = "" if value is None else str(value)
    return [t.strip() for t in text_value.split(";") if t.strip()]


async def _import_incident(
    session: AsyncSession, row: Row, *, caller: Caller, epsg: int, max_vertices: int
) -> Outcome:
    fields = row.fields
    tag_list = _tags(fields.get("tags"))
    body: dict[str, Any] = {
        "type": "Feature",
        "id": _text(fields, "id"),
        "properties": {
            k: v
            for k, v in {
                "category": _text(fields, "category"),
                "title": _text(fields, "title"),
                "description": _text(fields, "description"),
                "occurred_at": _text(fields, "occurred_at"),
                "severity": _text(fields, "severity"),
                "reported_by": _text(fields, "reported_by"),
                "border": _text(fields, "border"),
                "tags": tag_list,
            }.items()
            if v is not None
        },
    }
    location = _text(fields, "location")
    if location:
        body["location"] = location
    else:
        body["geometry"] = row.geometry
    submission = IncidentSubmission.model_validate(body)
    differs = await _differences_from_stored(session, submission, caller=caller, epsg=epsg)
    if differs is not None:
        if differs:
            raise Conflict(
                f"incident {submission.id} is already recorded and this row differs in "
                f"{', '.join(differs)}: to change it, PATCH /api/v1/incidents/{submission.id}; "
                "for a new report, give the row a new id"
            )
        return "unchanged"
    outcome = await submit(
        session,
        caller=caller,
        submission=submission,
        crs_param=f"EPSG:{epsg}",
        max_vertices=max_vertices,
    )
    return "created" if outcome.result == "created" else "unchanged"


# What an incident row carries that the stored incident must equal for the row to be
# "unchanged": the fields of the service's own exports (the submission's first content
# hash cannot decide it: exports round coordinates to 7 decimals and give the incident as
# it is now, after any edit, not as first sent).
_STORED_INCIDENT = """
SELECT i.category, i.title, i.description, i.occurred_at, i.severity, i.reported_by,
  i.tags, b.code AS border,
  CASE WHEN CAST(:geometry AS text) IS NULL THEN true
       ELSE ST_HausdorffDistance(i.geom, ST_Transform(ST_SetSRID(
              ST_GeomFromGeoJSON(CAST(:geometry AS text)), :epsg), 4326)) < 1e-6
  END AS same_geometry
FROM incidents i JOIN borders b ON b.id = i.border_id
WHERE i.id = :id AND {visible}
"""


async def _differences_from_stored(
    session: AsyncSession, submission: IncidentSubmission, *, caller: Caller, epsg: int
) -> list[str] | None:
    """None when no incident has the row's id (as the caller may see it: another
    province's is left to `submit`, which refuses it); else the fields that differ."""
    visible = visibility(caller).bind(
        id=submission.id,
        epsg=epsg,
        geometry=json.dumps(submission.geometry) if submission.geometry else None,
    )
    sql = _STORED_INCIDENT.format(visible=visible.text)
    stored = (await session.execute(text(sql), visible.params)).mappings().first()
    if stored is None:
        return None
    given = submission.properties
    differs = [
        name
        for name, same in [
            ("category", given.category == stored["category"]),
            ("title", given.title == stored["title"]),
            ("description", given.description == stored["description"]),
            ("occurred_at", given.occurred_at == stored["occurred_at"]),
            ("severity", given.severity == stored["severity"]),
            ("reported_by", given.reported_by in (None, stored["reported_by"])),
            ("tags", sorted(given.tags) == sorted(stored["tags"] or [])),
            ("border", given.border in (None, stored["border"])),
            ("geometry", bool(stored["same_geometry"])),
        ]
        if not same
    ]
    return differs


async def _import_work(session: AsyncSession, row: Row, *, caller: Caller) -> Outcome:
    fields = row.fields
    range_ref = _text(fields, "range")
    kind = _text(fields, "kind")
    planned = _text(fields, "planned_start")
    work_id = _text(fields, "id") or str(uuid.uuid5(NAMESPACE, f"{range_ref}|{kind}|{planned}"))
    year = _text(fields, "approval_year")
    body = WorkCreate.model_validate(
        {
            k: v
            for k, v in {
                "id": work_id,
                "range": range_ref,
                "kind": kind,
                "approval": {
                    "body": _text(fields, "approval_body"),
                    "ref": _text(fields, "approval_ref"),
                    "year": int(float(year)) if year else None,
                },
                "party": _text(fields, "party"),
                "planned_start": planned,
                "planned_end": _text(fields, "planned_end"),
                "actual_start": _text(fields, "actual_start"),
                "actual_end": _text(fields, "actual_end"),
                "status": _text(fields, "status"),
                "notes": _text(fields, "notes"),
            }.items()
            if v is not None
        }
    )
    created = await insert_work(session, caller=caller, body=body)
    return "created" if created.created else "unchanged"


def _validation_error(exc: ValidationError) -> tuple[str, str]:
    first = exc.errors()[0]
    loc = [str(p) for p in first["loc"] if p not in ("properties",)]
    return (".".join(loc) or "row"), str(first["msg"])


async def import_rows(
    session: AsyncSession,
    *,
    caller: Caller,
    kind: Literal["markers", "incidents", "clearing-works"],
    rows: Iterable[Row],
    epsg: int,
    max_vertices: int,
    dry_run: bool,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Markers: admins (the register). Incidents, clearing works: as their own endpoints
    allow. Commits unless `dry_run`, in which case nothing is written."""
    require_role(caller, Role.admin if kind == "markers" else Role.officer)
    report = ImportReport(kind=kind, dry_run=dry_run)
    touched: set[int] = set()
    for row in rows:
        report.rows += 1
        try:
            async with session.begin_nested():
                if kind == "markers":
                    outcome = await _import_marker(
                        session, row, epsg=epsg, max_vertices=max_vertices, touched=touched
                    )
                elif kind == "incidents":
                    outcome = await _import_incident(
                        session, row, caller=caller, epsg=epsg, max_vertices=max_vertices
                    )
                else:
                    outcome = await _import_work(session, row, caller=caller)
            report.count(outcome)
        except DomainError as exc:
            errors = exc.extra.get("errors") or [{"field": "row", "message": exc.detail}]
            report.errors.append(RowError(row.number, errors[0]["field"], exc.detail))
        except ValidationError as exc:
            name, message = _validation_error(exc)
            report.errors.append(RowError(row.number, name, message))
        if progress:
            progress(1)
    for border_id in touched:
        await rebuild_segments(session, border_id=border_id)
    if dry_run:
        await session.rollback()
        return report
    record(
        session,
        caller=caller,
        action=f"import.{kind}",
        entity_type=kind,
        entity_id=None,
        detail={
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "errors": len(report.errors),
        },
    )
    await session.commit()
    return report
