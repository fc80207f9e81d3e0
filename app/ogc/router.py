"""OGC API - Features Parts 1-3: landing page, conformance, collections, items with bbox,
datetime, limit/offset, property equality, sortby, properties, CQL2 filters and CRS; each
page in JSON and HTML. Read-only; the caller's scope applies as in the domain API.
numberMatched comes free on the last page, is counted for the first page of a whole
collection (how QGIS and GDAL learn a layer's size) and on request (`count=true`), never
on every page."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import text

from app.auth.caller import Caller
from app.auth.dependencies import CallerDep
from app.db import SessionDep, fetch_row, fetch_rows, fetch_value
from app.errors import BadRequest, InvalidInput, NotFound
from app.geo.crs import (
    CRS84_URI,
    SUPPORTED_EPSG,
    OutsideAreaOfUse,
    UnsupportedCrs,
    is_geographic,
    latitude_first,
    parse_crs,
    to_wgs84,
)
from app.geojson import (
    COORD_DECIMALS,
    GEOJSON_MEDIA_TYPE,
    collection_body,
    envelope_sql,
    page_features,
    page_rows_sql,
    raw_geojson,
)
from app.ogc.collections import COLLECTIONS, Collection
from app.ogc.cql2_sql import Queryable, parse, to_sql
from app.ogc.html import negotiate, render
from app.ogc.openapi30 import ogc_openapi_30
from app.urls import with_query

router = APIRouter(prefix="/ogc", tags=["OGC API Features"])
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-operators",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
SUPPORTED_CRS = [CRS84_URI] + [EPSG_URI.format(code) for code in sorted(SUPPORTED_EPSG)]


@dataclass(frozen=True)
class OutputCrs:
    srid: int
    flip: bool  # latitude (northing) first
    uri: str

    @property
    def geojson_member(self) -> str:
        """`,"crs":...` for a document in any CRS but CRS84, else nothing. GeoJSON (RFC
        7946) dropped the member, but GDAL, and through it QGIS and geopandas, read a
        file's CRS from it alone: without it metres saved from `crs=EPSG:3405` were read
        back as degrees. Content-Crs says the same to clients that read headers."""
        if self.uri == CRS84_URI:
            return ""
        urn = f"urn:ogc:def:crs:EPSG::{self.srid}"
        return f',"crs":{{"type":"name","properties":{{"name":"{urn}"}}}}'


def _crs(value: str | None, field: str) -> OutputCrs:
    """CRS84 (lon/lat, the default) or an EPSG code, in that CRS's own axis order."""
    if value is None or value.strip().lower() in {CRS84_URI.lower(), "crs84", "ogc:crs84"}:
        return OutputCrs(4326, False, CRS84_URI)
    try:
        epsg = parse_crs(value)
    except UnsupportedCrs as exc:
        raise BadRequest(f"{field}: {exc}", extra={"supported": SUPPORTED_CRS}) from exc
    return OutputCrs(epsg, latitude_first(epsg), EPSG_URI.format(epsg))


def _geometry_sql(c: Collection, out: OutputCrs) -> str:
    """The collection's feature SQL with its geometry in the output CRS."""
    original = f"ST_AsGeoJSON({c.geom}, {COORD_DECIMALS})"
    if out.srid == 4326 and not out.flip:
        return c.feature
    expr = c.geom if out.srid == 4326 else f"ST_Transform({c.geom}, {out.srid})"
    if out.flip:
        expr = f"ST_FlipCoordinates({expr})"
    decimals = COORD_DECIMALS if is_geographic(out.srid) else 3  # millimetres
    assert original in c.feature, c.id
    # Options 0: no `crs` inside each geometry (the document carries one, geojson_member).
    return c.feature.replace(original, f"ST_AsGeoJSON({expr}, {decimals}, 0)")


JSON_SCHEMA_TYPES = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "timestamp": {"type": "string", "format": "date-time"},
    "geometry": {"$ref": "https://geojson.org/schema/Geometry.json"},
}
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
# An HTML page of 10,000 features took 3.2 s to render and held /healthz as long; HTML
# pages hold at most this many (their next link goes on from there).
HTML_MAX_LIMIT = 500
OAS30_MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
FormatParam = Annotated[
    str | None, Query(alias="f", description="json (or geojson) or html; default by Accept")
]
# Query parameters of the items request itself (anything else naming a queryable is an
# equality filter on that property).
ITEMS_PARAMS = {
    "limit", "offset", "bbox", "datetime", "filter", "filter-lang", "filter-crs", "crs",
    "bbox-crs", "sortby", "properties", "f", "count",
}  # fmt: skip


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _link(href: str, rel: str, media_type: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": media_type}
    if title:
        link["title"] = title
    return link


def _self_links(
    request: Request, fmt: str, json_type: str = "application/json"
) -> list[dict[str, str]]:
    """self in the format served, alternate in the other one."""
    url = str(request.url)
    as_json = _link(with_query(url, f="json"), "self", json_type, "this document")
    as_html = _link(with_query(url, f="html"), "self", "text/html", "this document as HTML")
    if fmt == "html":
        return [as_html, {**as_json, "rel": "alternate", "title": "this document as JSON"}]
    return [as_json, {**as_html, "rel": "alternate"}]


@router.get("", summary="Landing page")
async def landing(request: Request, caller: CallerDep, f: FormatParam = None) -> Response:
    fmt = negotiate(request, f)
    base = _base(request)
    root = str(request.base_url).rstrip("/")
    links = [
        *_self_links(request, fmt),
        _link(base + "/api", "service-desc", OAS30_MEDIA_TYPE, "the API definition"),
        _link(root + "/docs", "service-doc", "text/html", "the API documentation"),
        _link(base + "/conformance", "conformance", "application/json"),
        _link(base + "/collections", "data", "application/json"),
    ]
    description = "Boundary markers, the border line, border events and clearing works."
    if fmt == "html":
        return render("landing.html", "bordermark", description=description, links=links)
    return JSONResponse({"title": "bordermark", "description": description, "links": links})


@router.get("/api", summary="This API's definition (OpenAPI 3.0)")
async def api_definition(request: Request, caller: CallerDep, f: FormatParam = None) -> Response:
    if negotiate(request, f) == "html":
        return RedirectResponse(str(request.base_url) + "docs", status_code=303)
    return JSONResponse(
        ogc_openapi_30(request.app, str(request.base_url).rstrip("/")),
        media_type=OAS30_MEDIA_TYPE,
    )


@router.get("/conformance", summary="Conformance classes")
async def conformance(request: Request, caller: CallerDep, f: FormatParam = None) -> Response:
    fmt = negotiate(request, f)
    links = _self_links(request, fmt)
    if fmt == "html":
        return render("conformance.html", "Conformance", conforms_to=CONFORMANCE, links=links)
    return JSONResponse({"conformsTo": CONFORMANCE, "links": links})


# Past this many rows a collection's spatial extent is PostGIS's estimate (as tipg's):
# the box at the head of the table's spatial index (single precision, rounded outward, so
# it covers every feature and any deleted since), or the planner's statistics without one.
# Computed exactly it reads every row: about 0.6 s at a million incidents, on every
# /collections request, which map clients (QGIS, GDAL) send when they connect.
EXACT_EXTENT_UP_TO_ROWS = 20_000


async def _extent(session: Any, c: Collection) -> list[float] | None:
    table, column = c.table.split()[0], c.geom.split(".")[-1]
    estimated = await fetch_row(
        session,
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ("
        "SELECT CASE WHEN t.reltuples > :exact_up_to "
        "THEN ST_EstimatedExtent(CAST(:table AS text), CAST(:column AS text)) END AS e "
        "FROM pg_class t WHERE t.oid = CAST(CAST(:table AS text) AS regclass)) x",
        {"table": table, "column": column, "exact_up_to": EXACT_EXTENT_UP_TO_ROWS},
    )
    row = estimated if estimated is not None and estimated[0] is not None else None
    if row is None:  # a small table, or no statistics yet: exactly
        row = await fetch_row(
            session,
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
            f"FROM (SELECT ST_Extent({c.geom}) AS e FROM {c.table}) x",
        )
    return None if row is None or row[0] is None else [float(v) for v in row]


async def _describe(session: Any, request: Request, c: Collection) -> dict[str, Any]:
    base = _base(request)
    box = await _extent(session, c)
    spatial = {"bbox": [box or [-180, -90, 180, 90]], "crs": CRS84_URI}
    extent: dict[str, Any] = {"spatial": spatial}
    if c.temporal_extent_sql:
        t = await fetch_row(session, c.temporal_extent_sql)
        assert t is not None  # an aggregate always answers one row
        extent["temporal"] = {
            "interval": [[t[0].isoformat() if t[0] else None, t[1].isoformat() if t[1] else None]]
        }
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "extent": extent,
        "itemType": "feature",
        "crs": SUPPORTED_CRS,
        "storageCrs": CRS84_URI,
        "links": [
            _link(f"{base}/collections/{c.id}", "self", "application/json"),
            _link(f"{base}/collections/{c.id}?f=html", "alternate", "text/html"),
            _link(f"{base}/collections/{c.id}/items", "items", GEOJSON_MEDIA_TYPE, c.title),
            _link(f"{base}/collections/{c.id}/items?f=html", "items", "text/html", c.title),
            _link(
                f"{base}/collections/{c.id}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "application/schema+json",
            ),
        ],
    }


def _get(collection_id: str) -> Collection:
    c = COLLECTIONS.get(collection_id)
    if c is None:
        raise NotFound(f"no collection {collection_id!r}; collections: {', '.join(COLLECTIONS)}")
    return c


@router.get("/collections", summary="Collections")
async def collections(
    request: Request, session: SessionDep, caller: CallerDep, f: FormatParam = None
) -> Response:
    fmt = negotiate(request, f)
    described = [await _describe(session, request, c) for c in COLLECTIONS.values()]
    links = _self_links(request, fmt)
    if fmt == "html":
        return render("collections.html", "Collections", collections=described, links=links)
    return JSONResponse({"links": links, "collections": described})


@router.get("/collections/{collection_id}", summary="One collection")
async def collection(
    request: Request,
    collection_id: Annotated[str, Path(max_length=40)],
    session: SessionDep,
    caller: CallerDep,
    f: FormatParam = None,
) -> Response:
    fmt = negotiate(request, f)
    described = await _describe(session, request, _get(collection_id))
    if fmt == "html":
        return render(
            "collection.html", described["title"], collection=described, links=described["links"]
        )
    return JSONResponse(described)


def _bbox(value: str | None) -> list[float] | None:
    if not value:
        return None
    try:
        parts = [float(p) for p in value.split(",")]
    except ValueError as exc:
        raise InvalidInput(
            "bbox is minx,miny,maxx,maxy in bbox-crs (default CRS84)", field="bbox"
        ) from exc
    if len(parts) == 6:  # with heights: ignore them
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if (
        len(parts) != 4
        or not all(math.isfinite(p) for p in parts)
        or any(abs(p) > 1e9 for p in parts)  # past any CRS's coordinates, metres included
        or parts[0] > parts[2]
        or parts[1] > parts[3]
    ):
        raise InvalidInput("bbox is minx,miny,maxx,maxy in bbox-crs (default CRS84)", field="bbox")
    return parts


def _instant(value: str, field: str) -> datetime | None:
    if value in ("", ".."):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"{value!r} is not an RFC 3339 date-time", field=field) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _datetime(value: str | None) -> tuple[datetime | None, datetime | None, bool] | None:
    """(start, end, is_instant) of an instant or an interval `a/b` (open ends `..`)."""
    if not value:
        return None
    if "/" in value:
        start, end = value.split("/", 1)
        return _instant(start, "datetime"), _instant(end, "datetime"), False
    instant = _instant(value, "datetime")
    return instant, instant, True


def _envelope(bbox: list[float], bbox_crs: OutputCrs | None) -> str:
    """The bbox as SQL in CRS84, its numbers written out (geojson.envelope_sql)."""
    box_crs = bbox_crs or OutputCrs(4326, False, CRS84_URI)
    x1, y1, x2, y2 = bbox
    if box_crs.flip:  # given as lat/lon (northing first)
        x1, y1, x2, y2 = y1, x1, y2, x2
    if box_crs.srid != 4326:  # PostGIS fails on corners outside a projection's domain
        try:
            to_wgs84(np.array([[x1, y1], [x2, y2], [x1, y2], [x2, y1]]), box_crs.srid)
        except OutsideAreaOfUse as exc:
            raise BadRequest(f"bbox: {exc}", extra={"field": "bbox"}) from exc
    envelope = envelope_sql(x1, y1, x2, y2, box_crs.srid)
    return envelope if box_crs.srid == 4326 else f"ST_Transform({envelope}, 4326)"


# A bbox's keys come from the extent box index (an index-only scan, then a sort) where
# PostGIS expects at most this many matches; above it, from the key's own order, read
# until the page is full. The two cost the same near sqrt(page x rows / 0.26 us a box
# entry): about 60,000 for 1,000 a page of a million (bench/results/2026-12-06.md).
EXTENT_BOX_AT_MOST = 50_000


@dataclass(frozen=True)
class KeyFilter:
    """An items request's WHERE, and for a bbox on a collection with an extent box, the
    same on the box and the bbox (which of the two finds the keys is PostGIS's estimate's
    to say, in the statement)."""

    where: str
    params: dict[str, Any]
    on_extent_box: str | None = None
    envelope: str | None = None


def _where(
    c: Collection,
    caller: Caller,
    bbox: list[float] | None,
    when: tuple[datetime | None, datetime | None, bool] | None,
    cql: tuple[str, dict[str, Any]] | None = None,
    bbox_crs: OutputCrs | None = None,
) -> KeyFilter:
    """The WHERE of an items request and its parameters, and for a bbox on a collection
    with an extent box, the same WHERE with the bbox tested on the box."""
    params: dict[str, Any] = {}
    clauses = [c.scope(caller, params)] if c.scope else []
    if cql is not None:  # its parameters are named cql_N: no clash with ours
        clauses.append(cql[0])
        params.update(cql[1])
    if when and c.datetime:
        start, end, instant = when
        if instant:
            clauses.append(f"{c.datetime} = :t0")
            params["t0"] = start
        else:
            if start:
                clauses.append(f"{c.datetime} >= :t0")
                params["t0"] = start
            if end:
                clauses.append(f"{c.datetime} <= :t1")
                params["t1"] = end
    if not bbox:
        return KeyFilter(" AND ".join(clauses) or "TRUE", params)
    envelope = _envelope(bbox, bbox_crs)
    if c.extent_box is None:
        return KeyFilter(" AND ".join([*clauses, f"{c.geom} && {envelope}"]), params)
    # The bbox's own corners: box(geometry) of the envelope would read its stored box,
    # rounded outward to float4 (each feature's extent box holds its own doubles).
    corners = (
        "(SELECT box(point(min(ST_X(d.geom)), min(ST_Y(d.geom))), "
        f"point(max(ST_X(d.geom)), max(ST_Y(d.geom)))) FROM ST_DumpPoints({envelope}) d)"
    )
    on_box = f"{c.extent_box} && {corners}"
    # PostGIS's && compares boxes rounded outward to float4: it lets in points up to a
    # metre or two outside (17 of the bench bbox's 9,558). Boxes overlap within 1e-6
    # degree, about 0.1 m (PostgreSQL's tolerance for its geometric types), so the
    # geometry's way (and the count) test the extent box as well, for the same features
    # either way. Inside a CASE, PostgreSQL estimates it at a half, not at box && box's
    # flat 0.5 %, and the geometry's statistics still choose that way's plan.
    exact = f"CASE WHEN {on_box} THEN true ELSE false END"
    where = " AND ".join([*clauses, f"{c.geom} && {envelope}", exact])
    return KeyFilter(where, params, " AND ".join([*clauses, on_box]), envelope)


def _order(c: Collection, sortby: str | None) -> str:
    """ORDER BY from `sortby` (`+name`/`-name`, queryables only), then the key (stable)."""
    terms = []
    for raw in (sortby or "").split(","):
        name = raw.strip()
        if not name:
            continue
        direction = "DESC" if name.startswith("-") else "ASC"
        name = name.lstrip("+-").strip()
        queryable = c.queryables.get(name)
        if queryable is None or queryable.type == "geometry":
            sortable = sorted(k for k, q in c.queryables.items() if q.type != "geometry")
            raise InvalidInput(
                f"cannot sort by {name!r}; sortable: {', '.join(sortable)}", field="sortby"
            )
        terms.append(f"{queryable.sql} {direction} NULLS LAST")
    return ", ".join([*terms, c.key])


def _properties(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [p.strip() for p in value.split(",") if p.strip()]


def _select_properties(feature: str, chosen: list[str] | None) -> str:
    """The feature with only the chosen properties (a bound list, never SQL text)."""
    if chosen is None:
        return feature
    return (
        f"jsonb_set(({feature})::jsonb, '{{properties}}', coalesce((SELECT jsonb_object_agg(k, v) "
        f"FROM jsonb_each(({feature})::jsonb -> 'properties') AS p(k, v) "
        "WHERE k = ANY(:chosen_properties)), '{}'::jsonb))"
    )


@router.get("/collections/{collection_id}/queryables", summary="What a filter may name")
async def queryables(
    request: Request,
    collection_id: Annotated[str, Path(max_length=40)],
    caller: CallerDep,
    f: FormatParam = None,
) -> Response:
    fmt = negotiate(request, f)
    c = _get(collection_id)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{_base(request)}/collections/{c.id}/queryables",
        "type": "object",
        "title": c.title,
        "properties": {
            name: {"title": name, **JSON_SCHEMA_TYPES[q.type]} for name, q in c.queryables.items()
        },
        "additionalProperties": False,
        "links": _self_links(request, fmt, "application/schema+json"),
    }
    if fmt == "html":
        return render(
            "queryables.html",
            f"Queryables of {c.title}",
            properties=schema["properties"],
            links=schema["links"],
        )
    return JSONResponse(schema, media_type="application/schema+json")


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
            return _instant(raw, name)
    except (ValueError, KeyError) as exc:
        raise InvalidInput(f"{name}={raw!r} is not a {q.type}", field=name) from exc
    return raw


def _property_filters(c: Collection, request: Request) -> tuple[str, dict[str, Any]] | None:
    """`?status=reported&category=fence`: equality on queryables (Part 1 /rec/core/fc-filters).
    Any other unknown parameter is a 400, as Part 1 requires."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for name, raw in request.query_params.multi_items():
        if name in ITEMS_PARAMS:
            continue
        q = c.queryables.get(name)
        if q is None or q.type == "geometry":
            allowed = sorted(k for k, v in c.queryables.items() if v.type != "geometry")
            raise BadRequest(
                f"unknown query parameter {name!r}; parameters: {', '.join(sorted(ITEMS_PARAMS))};"
                f" property filters: {', '.join(allowed)}",
                extra={"field": name},
            )
        key = f"eq_{len(params)}"
        params[key] = _typed(q, name, raw)
        clauses.append(f"{q.sql} = :{key}")
    return (" AND ".join(clauses), params) if clauses else None


def _merge(*parts: tuple[str, dict[str, Any]] | None) -> tuple[str, dict[str, Any]] | None:
    present = [p for p in parts if p is not None]
    if not present:
        return None
    params: dict[str, Any] = {}
    for _, bound in present:
        params.update(bound)
    return " AND ".join(f"({sql})" for sql, _ in present), params


def _items_html(
    c: Collection, features: list[dict[str, Any]], links: list[dict[str, str]], matched: int | None
) -> Response:
    columns: list[str] = []
    for feature in features:
        for name in feature.get("properties") or {}:
            if name not in columns:
                columns.append(name)
    return render(
        "items.html",
        f"{c.title}: items",
        collection_id=c.id,
        features=features,
        columns=columns,
        links=links,
        number_matched=matched,
    )


def _keys_sql(c: Collection, keys: KeyFilter, order: str) -> tuple[str, str]:
    """The page's keys in order (a subquery), and the CTE it needs before it, if any."""

    def matching(where: str) -> str:
        return (
            f"SELECT {c.key} AS k FROM {c.source_for(where, order)} WHERE {where} "
            f"ORDER BY {order} LIMIT :limit_plus_one OFFSET :offset"
        )

    if keys.on_extent_box is None:
        return matching(keys.where), ""
    # Both ways in one statement, one of them run: the gate is decided once, before either
    # (a one-time filter), from the statistics of the collection's own geometry column.
    # It stands outside each way's query: inside its WHERE it would count as a condition
    # on every table there and keep PostgreSQL from dropping a join nothing reads (the
    # extent box's scan would then read the heap for the join's column).
    gate = f"""gate AS MATERIALIZED (
          SELECT bordermark_few_match('{c.table.split()[0]}', '{c.geom.partition(".")[2]}',
                                      {keys.envelope}, {EXTENT_BOX_AT_MOST}) AS few
        ),"""
    both = f"""SELECT k FROM ({matching(keys.on_extent_box)}) by_box
            WHERE (SELECT few FROM gate)
            UNION ALL
            SELECT k FROM ({matching(keys.where)}) by_geometry
            WHERE NOT (SELECT few FROM gate)"""
    return both, gate


def _page_statement(
    c: Collection,
    out: OutputCrs,
    keys: KeyFilter,
    order: str,
    chosen: list[str] | None,
    limit: int,
    offset: int,
) -> tuple[str, dict[str, Any]]:
    """An items page's one statement and its parameters: the page's features, a row each
    in `order` (UTF-8 bytes), one more than `limit` when more follow (page_features)."""
    if c.stored and out.srid == 4326 and not out.flip and chosen is None:
        # The stored features, as they are. One missing (rows written with the triggers
        # off, until bordermark_rebuild_incident_features()) is built here instead.
        built = f"SELECT ({c.feature})::text FROM {c.source} WHERE {c.key} = keys.k"
        page = f"""
          SELECT coalesce(s.feature, ({built})) AS feature, keys.rn
          FROM keys LEFT JOIN {c.stored} s ON s.{c.stored_key} = keys.k"""
        feature = "feature"
    else:
        page = f"""
          SELECT {_geometry_sql(c, out)} AS feature, keys.rn
          FROM {c.source} JOIN keys ON keys.k = {c.key}"""
        feature = _select_properties("feature", chosen)
    key_sql, gate = _keys_sql(c, keys, order)
    sql = f"""
        WITH {gate} keys AS (
          -- The page's keys first, then features for those rows only: a dense bbox
          -- matches many pages, and each match would otherwise be read whole. The
          -- keys' places in the page come with them (an array keeps its order), so
          -- nothing is sorted twice; one more key than the page says a next exists.
          SELECT k, rn FROM unnest(ARRAY(
            {key_sql}
          )) WITH ORDINALITY AS keys(k, rn)
        ), page AS ({page}
        )
        {page_rows_sql(feature)}
        """
    bound = {**keys.params, "limit_plus_one": limit + 1, "offset": offset}
    if chosen is not None:
        bound["chosen_properties"] = chosen
    return sql, bound


def items_page_statement(
    c: Collection,
    caller: Caller,
    *,
    limit: int,
    bbox: list[float] | None = None,
    cql_text: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """What `items` sends for a first page in CRS84 with this bbox and CQL2 text filter:
    the statement (`:name` parameters) and its values. The bench runs it directly as the
    SQL floor of the same request."""
    cql = to_sql(parse(cql_text, None), c.queryables) if cql_text else None
    keys = _where(c, caller, bbox, None, cql)
    return _page_statement(c, _crs(None, "crs"), keys, c.key, None, limit, 0)


@router.get("/collections/{collection_id}/items", summary="Features of a collection")
async def items(
    request: Request,
    collection_id: Annotated[str, Path(max_length=40)],
    session: SessionDep,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    bbox: Annotated[str | None, Query(max_length=200)] = None,
    datetime_: Annotated[str | None, Query(alias="datetime", max_length=100)] = None,
    filter_: Annotated[str | None, Query(alias="filter", max_length=20_000)] = None,
    filter_lang: Annotated[
        Literal["cql2-text", "cql2-json"] | None, Query(alias="filter-lang")
    ] = None,
    filter_crs: Annotated[
        str | None, Query(alias="filter-crs", description="Only CRS84 (the default)")
    ] = None,
    crs: Annotated[
        str | None, Query(max_length=100, description="Output CRS (default CRS84)")
    ] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", max_length=100)] = None,
    sortby: Annotated[
        str | None, Query(max_length=500, description="e.g. -occurred_at,+title (queryables)")
    ] = None,
    properties: Annotated[
        str | None, Query(max_length=2000, description="Only these properties, comma-separated")
    ] = None,
    count: Annotated[
        bool,
        Query(
            description="Also give numberMatched on a page of a bbox or filter (runs a "
            "COUNT). It comes without asking on the last page and on the first page of "
            "the whole collection."
        ),
    ] = False,
    f: FormatParam = None,
) -> Response:
    fmt = negotiate(request, f)
    if fmt == "html":  # rendered in the event loop: a page a browser shows, not an export
        limit = min(limit, HTML_MAX_LIMIT)
    c = _get(collection_id)
    out = _crs(crs, "crs")
    box_crs = _crs(bbox_crs, "bbox-crs")
    if _crs(filter_crs, "filter-crs").uri != CRS84_URI:
        raise BadRequest(
            "filter-crs: filters are read in CRS84 only", extra={"field": "filter-crs"}
        )
    cql = to_sql(parse(filter_, filter_lang), c.queryables) if filter_ else None
    conditions = _merge(cql, _property_filters(c, request))
    whole = conditions is None and not bbox and not datetime_
    keys = _where(c, caller, _bbox(bbox), _datetime(datetime_), conditions, box_crs)
    order = _order(c, sortby)
    chosen = _properties(properties)
    rows = await fetch_rows(session, *_page_statement(c, out, keys, order, chosen, limit, offset))
    features, has_next = page_features(rows, limit)
    returned = len(features)
    matched: int | None = None
    if not has_next and (returned > 0 or offset == 0):
        matched = offset + returned  # the last page: the total is known without counting
    elif count or (whole and offset == 0):
        # Also counted: the first page of the whole collection (as the caller may see
        # it), which is how QGIS (`limit=10` on opening, `limit=1` for its feature count)
        # and GDAL learn a layer's size. Each such count runs once per layer opened, not
        # per page; a bbox or filter page (the map's, the bench's) is never counted.
        matched = await fetch_value(
            session,
            f"SELECT count(*) FROM {c.source_for(keys.where)} WHERE {keys.where}",
            keys.params,
        )
    page_type = "text/html" if fmt == "html" else GEOJSON_MEDIA_TYPE
    links = [
        *_self_links(request, fmt, GEOJSON_MEDIA_TYPE),
        _link(f"{_base(request)}/collections/{c.id}", "collection", "application/json"),
    ]
    here = str(request.url)
    if has_next:
        links.append(_link(with_query(here, offset=offset + limit, limit=limit), "next", page_type))
    if offset > 0:
        links.append(
            _link(with_query(here, offset=max(0, offset - limit), limit=limit), "prev", page_type)
        )
    if fmt == "html":
        return _items_html(c, [json.loads(f) for f in features], links, matched)
    stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    counted = f',"numberMatched":{matched}' if matched is not None else ""
    tail = (
        f',"numberReturned":{returned}{counted},"timeStamp":"{stamp}",'
        f'"links":{json.dumps(links)}{out.geojson_member}}}'
    )
    return raw_geojson(collection_body(features, tail), headers={"Content-Crs": f"<{out.uri}>"})


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature")
async def item(
    request: Request,
    collection_id: Annotated[str, Path(max_length=40)],
    feature_id: Annotated[str, Path(max_length=80)],
    session: SessionDep,
    caller: CallerDep,
    crs: Annotated[
        str | None, Query(max_length=100, description="Output CRS (default CRS84)")
    ] = None,
    f: FormatParam = None,
) -> Response:
    fmt = negotiate(request, f)
    c = _get(collection_id)
    out = _crs(crs, "crs")
    in_scope = _where(c, caller, None, None)
    found = (
        await session.execute(
            text(
                f"SELECT ({_geometry_sql(c, out)})::jsonb FROM {c.source} "
                f"WHERE {in_scope.where} AND {c.key}::text = :fid"
            ),
            {**in_scope.params, "fid": feature_id},
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no feature {feature_id!r} in {c.id}")
    found["links"] = [
        *_self_links(request, fmt, GEOJSON_MEDIA_TYPE),
        _link(f"{_base(request)}/collections/{c.id}", "collection", "application/json"),
    ]
    if fmt == "html":
        return render("item.html", f"{c.title}: {feature_id}", feature=found, links=found["links"])
    body = json.dumps(found, ensure_ascii=False)
    if out.geojson_member:
        body = body[:-1] + out.geojson_member + "}"
    return raw_geojson(body, headers={"Content-Crs": f"<{out.uri}>"})
