"""The items request's query parameters, each parsed by a dependency (as tipg's
dependencies.py): a bad value is a problem response before any SQL is built. They are
`async def` although they await nothing: FastAPI runs a plain `def` dependency in its
thread pool, a thread hop per parameter per request."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query, Request

from app.errors import BadRequest, InvalidInput
from app.geo.crs import CRS84_URI
from app.layers import collection
from app.layers.spec import Layer, Queryable
from app.ogc.cql2_sql import parse, to_sql
from app.ogc.crs import OutputCrs, output_crs
from app.sql import Sql

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
FormatParam = Annotated[
    str | None, Query(alias="f", description="json (or geojson) or html; default by Accept")
]
# The items request's own parameters; any other naming a queryable is an equality filter.
ITEMS_PARAMS = {
    "limit", "offset", "bbox", "datetime", "filter", "filter-lang", "filter-crs", "crs",
    "bbox-crs", "sortby", "properties", "f", "count",
}  # fmt: skip
# A WHERE fragment and its bound values.


async def collection_path(collection_id: Annotated[str, Path(max_length=40)]) -> Layer:
    return collection(collection_id)


CollectionDep = Annotated[Layer, Depends(collection_path)]


async def crs_query(
    crs: Annotated[
        str | None, Query(max_length=100, description="Output CRS (default CRS84)")
    ] = None,
) -> OutputCrs:
    return output_crs(crs, "crs")


OutputCrsDep = Annotated[OutputCrs, Depends(crs_query)]


@dataclass(frozen=True)
class Bbox:
    corners: list[float]  # minx, miny, maxx, maxy
    crs: OutputCrs


async def bbox_query(
    bbox: Annotated[str | None, Query(max_length=200)] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", max_length=100)] = None,
) -> Bbox | None:
    box_crs = output_crs(bbox_crs, "bbox-crs")
    if not bbox:
        return None
    problem = "bbox is minx,miny,maxx,maxy in bbox-crs (default CRS84)"
    try:
        parts = [float(p) for p in bbox.split(",")]
    except ValueError as exc:
        raise InvalidInput(problem, field="bbox") from exc
    if len(parts) == 6:  # with heights: ignore them
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if (
        len(parts) != 4
        or not all(math.isfinite(p) for p in parts)
        or any(abs(p) > 1e9 for p in parts)  # past any CRS's coordinates, metres included
        or parts[0] > parts[2]
        or parts[1] > parts[3]
    ):
        raise InvalidInput(problem, field="bbox")
    return Bbox(parts, box_crs)


def instant(value: str, field: str) -> datetime | None:
    if value in ("", ".."):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"{value!r} is not an RFC 3339 date-time", field=field) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Interval:
    start: datetime | None
    end: datetime | None
    is_instant: bool


async def datetime_query(
    value: Annotated[str | None, Query(alias="datetime", max_length=100)] = None,
) -> Interval | None:
    """An instant or an interval `a/b` (open ends `..`)."""
    if not value:
        return None
    if "/" in value:
        start, end = value.split("/", 1)
        return Interval(instant(start, "datetime"), instant(end, "datetime"), False)
    at = instant(value, "datetime")
    return Interval(at, at, True)


def _typed(q: Queryable, name: str, raw: str) -> Any:
    """A query-string value in the queryable's type (bound, never SQL text)."""
    try:
        if q.type == "number":
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError(raw)
            return value
        if q.type == "boolean":
            return {"true": True, "false": False}[raw.lower()]
        if q.type == "timestamp":
            return instant(raw, name)
    except (ValueError, KeyError) as exc:
        raise InvalidInput(f"{name}={raw!r} is not a {q.type}", field=name) from exc
    return raw


def _property_filters(layer: Layer, request: Request) -> Sql | None:
    """`?status=reported&category=fence`: equality on queryables (Part 1 /rec/core/fc-filters).
    Any other unknown parameter is a 400, as Part 1 requires."""
    clauses: list[Sql] = []
    queryables = layer.queryables
    for name, raw in request.query_params.multi_items():
        if name in ITEMS_PARAMS:
            continue
        q = queryables.get(name)
        if q is None or q.type == "geometry":
            allowed = sorted(k for k, v in queryables.items() if v.type != "geometry")
            raise BadRequest(
                f"unknown query parameter {name!r}; parameters: {', '.join(sorted(ITEMS_PARAMS))};"
                f" property filters: {', '.join(allowed)}",
                extra={"field": name},
            )
        key = f"eq_{len(clauses)}"
        clauses.append(Sql(f"{q.sql} = :{key}", {key: _typed(q, name, raw)}))
    return Sql.all(clauses) if clauses else None


def merge(*parts: Sql | None) -> Sql | None:
    """The conditions ANDed (a filter's literals are :cql_N, property equalities :eq_N)."""
    present = [Sql(f"({p.text})", p.params) for p in parts if p is not None]
    return Sql.all(present) if present else None


async def conditions_query(
    request: Request,
    layer: CollectionDep,
    filter_: Annotated[str | None, Query(alias="filter", max_length=20_000)] = None,
    filter_lang: Annotated[
        Literal["cql2-text", "cql2-json"] | None, Query(alias="filter-lang")
    ] = None,
    filter_crs: Annotated[
        str | None, Query(alias="filter-crs", description="Only CRS84 (the default)")
    ] = None,
) -> Sql | None:
    """The CQL2 filter and the property equalities, as one condition."""
    if output_crs(filter_crs, "filter-crs").uri != CRS84_URI:
        raise BadRequest(
            "filter-crs: filters are read in CRS84 only", extra={"field": "filter-crs"}
        )
    cql = to_sql(parse(filter_, filter_lang), layer.queryables) if filter_ else None
    return merge(cql, _property_filters(layer, request))


async def sortby_query(
    layer: CollectionDep,
    sortby: Annotated[
        str | None, Query(max_length=500, description="e.g. -occurred_at,+title (queryables)")
    ] = None,
) -> str:
    """ORDER BY from `sortby` (`+name`/`-name`, queryables only), then the key (stable)."""
    terms = []
    queryables = layer.queryables
    for raw in (sortby or "").split(","):
        name = raw.strip()
        if not name:
            continue
        direction = "DESC" if name.startswith("-") else "ASC"
        name = name.lstrip("+-").strip()
        queryable = queryables.get(name)
        if queryable is None or queryable.type == "geometry":
            sortable = sorted(k for k, q in queryables.items() if q.type != "geometry")
            raise InvalidInput(
                f"cannot sort by {name!r}; sortable: {', '.join(sortable)}", field="sortby"
            )
        terms.append(f"{queryable.sql} {direction} NULLS LAST")
    return ", ".join([*terms, layer.key])


async def properties_query(
    properties: Annotated[
        str | None, Query(max_length=2000, description="Only these properties, comma-separated")
    ] = None,
) -> list[str] | None:
    if properties is None:
        return None
    return [p.strip() for p in properties.split(",") if p.strip()]


BboxDep = Annotated[Bbox | None, Depends(bbox_query)]
DatetimeDep = Annotated[Interval | None, Depends(datetime_query)]
ConditionsDep = Annotated[Sql | None, Depends(conditions_query)]
SortbyDep = Annotated[str, Depends(sortby_query)]
PropertiesDep = Annotated[list[str] | None, Depends(properties_query)]
LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
OffsetParam = Annotated[int, Query(ge=0, le=10_000_000)]
