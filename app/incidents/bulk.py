"""The steps of storing submissions together (intake.py runs them for one report, a
batch or a coalesced group), each once for all the items: the categories named, the places
(chainage references resolved together, the borders of client geometries found together),
the area check, and one INSERT that computes each new incident's context as it stores it.
An item's refusal is its own result. Should the shared INSERT fail on a value PostgreSQL
refuses but validation let through, nothing is written and intake.py stores the items one
by one instead, which isolates that item.

The INSERT takes the rows in the order of their ids, so concurrent batches naming the
same ids wait for each other in one order and never deadlock; of one id sent twice in a
batch, the first is stored and the second compared with it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Row
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.placement import UNIT_REACH_M
from app.areas.service import caller_area, geometries_within_unit, outside_area
from app.auth.caller import Caller
from app.borders.service import unknown_border
from app.chainage.service import END_TOLERANCE_M, no_marker_to_count_from, past_the_end
from app.db import cached_text, fetch_rows
from app.errors import Conflict, DomainError, InvalidInput, invalid_data
from app.geo.chainage import ChainageRef, InvalidChainage, is_range, parse_chainage
from app.geojson import COORD_DECIMALS
from app.incidents.context import CONTEXT_COLUMNS, with_context
from app.incidents.location import (
    Place,
    check_reach,
    check_whole_reach,
    client_geometry,
    from_location,
    location_border,
    one_place,
)
from app.incidents.schemas import IncidentSubmission
from app.incidents.submission import content_hash, require_category, search_text
from app.markers.queries import no_such_marker
from app.params import input_epsg


@dataclass
class Item:
    """One submission on its way: its place once resolved, or why it was refused."""

    index: int
    submission: IncidentSubmission
    given_id: str  # the id as the client wrote it, for its result
    caller: Caller  # who sent it (coalesced submissions come from several)
    crs_param: str | None  # the request's `crs`
    place: Place | None = None
    refused: DomainError | None = None
    outcome: Literal["created", "duplicate"] | None = None  # once stored, unless refused
    digest: str = ""
    # For chainage references and client geometries resolved in the shared statements.
    border: str = ""
    ref: ChainageRef | None = None
    geom: BaseGeometry | None = None


@dataclass
class _Borders:
    by_code: dict[str, tuple[int, float]] = field(default_factory=dict)  # id, length_m

    def id_of(self, code: str) -> int:
        found = self.by_code.get(code.upper())
        if found is None:
            raise unknown_border(code)
        return found[0]

    def code_of(self, border_id: int) -> str:
        return next(code for code, (bid, _) in self.by_code.items() if bid == border_id)


async def _borders(session: AsyncSession) -> _Borders:
    rows = await fetch_rows(session, "SELECT id, code, length_m FROM borders")
    return _Borders({r["code"]: (int(r["id"]), float(r["length_m"])) for r in rows})


async def check_categories(session: AsyncSession, items: Sequence[Item]) -> None:
    """Refuse the items naming an unknown category (one probe for the batch)."""
    named = sorted({i.submission.properties.category for i in items})
    known = {
        r[0]
        for r in await fetch_rows(
            session,
            "SELECT code FROM incident_categories WHERE code = ANY(CAST(:c AS text[]))",
            {"c": named},
        )
    }
    for item in items:
        if item.submission.properties.category not in known:
            try:
                await require_category(
                    session, item.submission.properties.category, "properties.category"
                )
            except DomainError as exc:
                item.refused = exc


async def resolve_places(
    session: AsyncSession, items: Sequence[Item], *, max_vertices: int
) -> None:
    """Each item's place: a marker or chainage reference, or a client geometry and its
    border, as resolve_place finds them, in two statements for the batch (ranges, rare in
    field reports, one by one)."""
    borders = await _borders(session)
    refs: list[Item] = []
    drawn: list[Item] = []
    for item in items:
        sub = item.submission
        try:
            one_place(sub.geometry, sub.location)
            if sub.location is not None:
                border, ref = location_border(sub.location, sub.properties.border)
                borders.id_of(border)
                if is_range(ref):
                    item.place = await from_location(session, sub.location, sub.properties.border)
                    continue
                try:
                    item.border, item.ref = border, parse_chainage(ref)
                except InvalidChainage as exc:
                    raise InvalidInput(str(exc), field="location") from exc
                refs.append(item)
            else:
                epsg = input_epsg(item.crs_param, sub.crs)
                item.geom = client_geometry(sub.geometry, epsg=epsg, max_vertices=max_vertices)
                if sub.properties.border:
                    item.border = sub.properties.border.upper()
                    borders.id_of(item.border)
                drawn.append(item)
        except DomainError as exc:
            item.refused = exc
    await _resolve_refs(session, borders, refs)
    await _resolve_drawn(session, borders, drawn)


async def _resolve_refs(session: AsyncSession, borders: _Borders, items: list[Item]) -> None:
    """`VN-CN:1089` is the marker itself (a bank marker stands off the line); `1089+230`
    the point 230 m along the line past it (resolve_point's rounding and end check)."""
    if not items:
        return
    rows = await fetch_rows(
        session,
        f"""
            SELECT r.n, m.chainage_m, ST_X(m.geom), ST_Y(m.geom),
              CASE WHEN r.off > 0 AND m.chainage_m + r.off <= b.length_m + :tolerance THEN
                ST_AsGeoJSON(bordermark_point_at(b.measured_geom,
                                                 least(m.chainage_m + r.off, b.length_m)),
                             {COORD_DECIMALS}) END
            FROM unnest(CAST(:borders AS int[]), CAST(:numbers AS int[]), CAST(:aux AS int[]),
                        CAST(:banks AS int[]), CAST(:offsets AS float8[]))
                 WITH ORDINALITY AS r(border_id, number, aux, bank, off, n)
            JOIN borders b ON b.id = r.border_id
            LEFT JOIN markers m ON m.border_id = r.border_id AND m.number = r.number
                 AND m.aux_index = r.aux AND m.bank_index = r.bank
            ORDER BY r.n
            """,  # noqa: S608
        {
            "borders": [borders.id_of(i.border) for i in items],
            "numbers": [i.ref.marker.number for i in items if i.ref],
            "aux": [i.ref.marker.aux for i in items if i.ref],
            "banks": [i.ref.marker.bank for i in items if i.ref],
            "offsets": [i.ref.offset_m for i in items if i.ref],
            "tolerance": END_TOLERANCE_M,
        },
    )
    for item, row in zip(items, rows, strict=True):
        ref = item.ref
        assert ref is not None
        border_id, length = borders.by_code[item.border]
        canonical = f"{item.border}:{ref}"
        if row[1] is None:  # the one-by-one path's messages (marker_point, resolve_point)
            item.refused = (
                no_such_marker(ref.marker, "location")
                if ref.offset_m == 0
                else no_marker_to_count_from(item.border, ref.marker, "location")
            )
        elif ref.offset_m == 0:
            item.place = Place(Point(row[2], row[3]), item.border, border_id, canonical)
        elif row[4] is None:
            metres = float(row[1]) + ref.offset_m
            item.refused = past_the_end(
                ref, item.border, metres=metres, length=length, field="location"
            )
        else:
            item.place = Place(shape(json.loads(row[4])), item.border, border_id, canonical)


async def _resolve_drawn(session: AsyncSession, borders: _Borders, items: list[Item]) -> None:
    """A client geometry belongs to the border it names, or to the nearest; it must lie
    within the border's reach."""
    if not items:
        return
    rows = await fetch_rows(
        session,
        """
            WITH given AS (
              SELECT r.n, r.hint, ST_GeomFromWKB(decode(r.wkb, 'hex'), 4326) AS g
              FROM unnest(CAST(:wkbs AS text[]), CAST(:hints AS int[]))
                   WITH ORDINALITY AS r(wkb, hint, n)
            )
            SELECT given.n, near.border_id, near.d
            FROM given LEFT JOIN LATERAL (
              SELECT c.border_id, ST_Distance(c.geom::geography, given.g::geography) AS d
              FROM (SELECT bp.border_id, bp.geom FROM border_parts bp
                    WHERE given.hint IS NULL OR bp.border_id = given.hint
                    ORDER BY bp.geom <-> given.g
                    LIMIT CASE WHEN given.hint IS NULL THEN 6 ELSE 3 END) c
              ORDER BY d LIMIT 1) near ON true
            ORDER BY given.n
            """,
        {
            "wkbs": [shapely.to_wkb(i.geom, hex=True) for i in items],
            "hints": [borders.id_of(i.border) if i.border else None for i in items],
        },
    )
    for item, row in zip(items, rows, strict=True):
        assert item.geom is not None
        if row[1] is None:
            item.refused = InvalidInput("no border lines are loaded", field="geometry")
            continue
        border = item.border or borders.code_of(int(row[1]))
        try:
            check_reach(float(row[2]), border)
            await check_whole_reach(
                session, item.geom, border_id=int(row[1]), border=border, nearest_m=float(row[2])
            )
        except DomainError as exc:
            item.refused = exc
            continue
        item.place = Place(item.geom, border, int(row[1]), None)


async def check_area(session: AsyncSession, items: Sequence[Item]) -> None:
    """Refuse the items placed outside their sender's area (one statement per area)."""
    by_area: dict[tuple[str, str], list[Item]] = {}
    for item in items:
        if item.place is None:
            continue
        try:
            area = caller_area(item.caller)
        except DomainError as exc:
            item.refused, item.place = exc, None
            continue
        if area is not None:
            by_area.setdefault(area, []).append(item)
    for (code, level), placed in by_area.items():
        inside = await geometries_within_unit(
            session, code=code, level=level, wkb_hexes=[i.place.wkb_hex for i in placed if i.place]
        )
        for item, ok in zip(placed, inside, strict=True):
            if not ok:
                item.refused, item.place = outside_area("the incident", (code, level)), None


# What an incident's events tell of it (history.emit_events), besides its border's code: the
# INSERT returns them for the incidents it stores, so their events need no read after it.
EVENT_COLUMNS = ("id", "title", "category", "status", "severity", "occurred_at",
                 "province_code", "district_code", "commune_code", "chainage_ref",
                 "side")  # fmt: skip

# The batch's rows, each stored with its context (context.py) by one statement.
_INSERT = (
    with_context(  # noqa: S608
        """given AS MATERIALIZED (
          SELECT r.*, ST_GeomFromWKB(decode(r.wkb, 'hex'), 4326) AS geom
          FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(n int, id uuid, hash text,
               border_id int, category text, title text, description text,
               occurred_at timestamptz, severity text, reported_by text, tags varchar[],
               location_ref text, wkb text, search text, token uuid, nature text))""",
        key="e.n",
        geom="e.geom",
        occurred_at="e.occurred_at",
    )
    + f"""
INSERT INTO incidents (id, content_hash, border_id, category, title, description,
    occurred_at, severity, status, reported_by, tags, location_ref, geom,
    created_by_token_id, search_text, nature, {", ".join(CONTEXT_COLUMNS)})
SELECT g.id, g.hash, g.border_id, g.category, g.title, g.description, g.occurred_at,
    g.severity, 'reported', g.reported_by, g.tags, g.location_ref, g.geom,
    g.token, g.search, g.nature, {", ".join(CONTEXT_COLUMNS.values())}
FROM given g JOIN final f ON f.id = g.n
ORDER BY g.id, g.n
ON CONFLICT (id) DO NOTHING
RETURNING {", ".join(EVENT_COLUMNS)}
"""  # noqa: S608
)


async def insert_new(
    session: AsyncSession, items: Sequence[Item], *, savepoint: bool = True
) -> tuple[dict[Any, Row[Any]], bool]:
    """Insert the placed items with their context in one statement: (the rows stored, by
    id, with their EVENT_COLUMNS; whether the statement ran: False when PostgreSQL refused
    a value and nothing was written). In a `savepoint`, so that the transaction can go on
    after a refusal; without one (the caller then drops the transaction), two round trips
    fewer."""
    rows = []
    for item in items:
        assert item.place is not None
        props = item.submission.properties
        item.digest = content_hash(item.submission)
        rows.append(
            {
                "n": item.index,
                "id": str(item.submission.id),
                "hash": item.digest,
                "border_id": item.place.border_id,
                "category": props.category,
                "title": props.title,
                "description": props.description,
                "occurred_at": props.occurred_at.isoformat(),
                "severity": props.severity.value,
                "reported_by": props.reported_by or item.caller.name,
                "token": str(item.caller.token_id) if item.caller.token_id else None,
                "tags": props.tags,
                "location_ref": item.place.location_ref,
                "wkb": item.place.wkb_hex,
                "search": search_text(props.title, props.description, props.tags),
                "nature": props.nature.value,
            }
        )
    params = {"rows": json.dumps(rows, ensure_ascii=False), "reach": UNIT_REACH_M}
    try:
        if not savepoint:
            return await _stored(session, params), True
        async with session.begin_nested():
            return await _stored(session, params), True
    except DBAPIError as exc:
        if not invalid_data(exc):
            raise
        return {}, False


async def _stored(session: AsyncSession, params: dict[str, Any]) -> dict[Any, Row[Any]]:
    inserted = await session.execute(cached_text(_INSERT), params)
    return {r.id: r for r in inserted}


async def settle_replays(
    session: AsyncSession, items: Sequence[Item], stored: Mapping[Any, Any]
) -> None:
    """Each item's outcome: created if the insert stored it (the first of an id sent twice),
    else, its id being on file, a duplicate of the same content or a conflict."""
    first = {i.submission.id for i in items if i.submission.id in stored}
    claimed: set[Any] = set()
    again = []
    for item in items:
        if item.submission.id in first and item.submission.id not in claimed:
            claimed.add(item.submission.id)
            item.outcome = "created"
        else:
            again.append(item)
    if not again:
        return
    on_file = {
        r[0]: r[1]
        for r in await fetch_rows(
            session,
            "SELECT id, content_hash FROM incidents WHERE id = ANY(CAST(:ids AS uuid[]))",
            {"ids": [str(i.submission.id) for i in again]},
        )
    }
    for item in again:
        if on_file.get(item.submission.id) == item.digest:
            item.outcome = "duplicate"
        else:
            item.refused = Conflict(
                f"incident {item.submission.id} was already submitted with different content; "
                "send it again unchanged, or use a new id for a new report (or PATCH to edit)",
                extra={"id": str(item.submission.id)},
            )
