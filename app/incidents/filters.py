"""The incident filters of the list and the exports (query parameters resolved to places
and times), and the list's cursor."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query

from app.db import SessionDep
from app.errors import InvalidInput
from app.geo.chainage import is_range, split_border_prefix
from app.geojson import decode_cursor, parse_bbox
from app.incidents import queries
from app.incidents.location import resolve_place
from app.incidents.models import Severity, Status
from app.text import fold
from app.timestamps import LOCAL


def _local(value: datetime | None) -> datetime | None:
    """Dates without a zone are the office's local time (Vietnam, UTC+7)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=LOCAL)


async def _near(session: Any, near: str, border: str | None) -> tuple[float, float]:
    parts = near.split(",")
    if len(parts) == 2:
        try:
            lon, lat = float(parts[0]), float(parts[1])
        except ValueError as exc:
            raise InvalidInput("near is lon,lat or a marker like VN-CN:1089", field="near") from exc
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InvalidInput("near lon,lat out of range", field="near")
        return lon, lat
    try:
        place = await resolve_place(
            session, geometry=None, location=near, epsg=4326, border_hint=border, max_vertices=2
        )
    except InvalidInput as exc:
        raise InvalidInput(
            f"near is lon,lat or a marker like VN-CN:1089: {exc.detail}", field="near"
        ) from exc
    point = place.geom.centroid
    return float(point.x), float(point.y)


async def incident_filters(
    session: SessionDep,
    border: Annotated[str | None, Query(max_length=5)] = None,
    province: Annotated[str | None, Query(max_length=40)] = None,
    district: Annotated[str | None, Query(max_length=40)] = None,
    category: Annotated[list[str] | None, Query(description="One or more categories")] = None,
    status: Annotated[list[Status] | None, Query()] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    occurred_since: datetime | None = None,
    occurred_until: datetime | None = None,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    near: Annotated[str | None, Query(description="VN-CN:1089 or lon,lat", max_length=120)] = None,
    within_m: Annotated[float | None, Query(gt=0, le=100_000)] = None,
    zone: Annotated[str | None, Query(max_length=40)] = None,
    crosses_line: bool | None = None,
    range_: Annotated[
        str | None, Query(alias="range", max_length=120, description="VN-CN:1042-1053/1")
    ] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Text, with or without diacritics")
    ] = None,
    tag: Annotated[list[str] | None, Query()] = None,
) -> queries.IncidentFilter:
    """The incident filters, shared by the list and the exports."""
    filters = queries.IncidentFilter(
        border=border,
        province=province,
        district=district,
        categories=list(category or []),
        statuses=[s.value for s in status or []],
        severities=[s.value for s in severity or []],
        occurred_since=_local(occurred_since),
        occurred_until=_local(occurred_until),
        bbox=parse_bbox(bbox),
        zone=zone,
        crosses_line=crosses_line,
        q=fold(q) if q and q.strip() else None,
        tags=list(tag or []),
    )
    if near is not None:
        filters.near = await _near(session, near, border)
        filters.within_m = within_m or 1_000.0
    if range_ is not None:
        _, ref = split_border_prefix(range_)
        if not is_range(ref):
            raise InvalidInput("range is a stretch like VN-CN:1042-1053/1", field="range")
        place = await resolve_place(
            session, geometry=None, location=range_, epsg=4326, border_hint=border, max_vertices=2
        )
        filters.range_wkb = place.wkb_hex
        filters.within_m = within_m or 500.0
    return filters


IncidentFilterDep = Annotated[queries.IncidentFilter, Depends(incident_filters)]


def list_cursor(cursor: str, filters: queries.IncidentFilter) -> list[Any]:
    """The list's position from its cursor: (distance or time, id)."""
    key_types: tuple[type, ...] = (float, str) if filters.near else (str, str)
    after = decode_cursor(cursor, types=key_types)
    try:
        after[0] = float(after[0]) if filters.near else datetime.fromisoformat(after[0])
        after[1] = uuid.UUID(after[1])
    except ValueError as exc:
        raise InvalidInput("cursor is not one this service issued", field="cursor") from exc
    return after
