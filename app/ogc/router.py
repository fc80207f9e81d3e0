"""OGC API - Features Parts 1-3: landing page, conformance, collections, items with bbox,
datetime, limit/offset, property equality, sortby, properties, CQL2 filters and CRS; each
page in JSON and HTML. Read-only; the caller's scope applies as in the domain API. The
collections are the layers (app/layers); parameters are parsed by params.py and the SQL
built by statements.py.

numberMatched comes free on the last page, is counted for the first page of a whole
collection (how QGIS and GDAL learn a layer's size) and on request (`count=true`), never
on every page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import CallerDep
from app.db import SessionDep, fetch_row, fetch_rows, fetch_value
from app.errors import NotFound
from app.geo.crs import CRS84_URI
from app.geojson import collection_body, page_features, raw_geojson
from app.layers import LAYERS
from app.layers.spec import Layer
from app.ogc import schemas, statements
from app.ogc.crs import SUPPORTED_CRS
from app.ogc.html import negotiate, render
from app.ogc.links import base, collection_links, feature_links, link, page_links, self_links
from app.ogc.openapi30 import ogc_openapi_30
from app.ogc.params import (
    DEFAULT_LIMIT,
    BboxDep,
    CollectionDep,
    ConditionsDep,
    DatetimeDep,
    FormatParam,
    LimitParam,
    OffsetParam,
    OutputCrsDep,
    PropertiesDep,
    SortbyDep,
)

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
JSON_SCHEMA_TYPES = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "timestamp": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "geometry": {"$ref": "https://geojson.org/schema/Geometry.json"},
}
# An HTML page of 10,000 features holds the event loop for seconds: HTML pages hold at
# most this many (their next link goes on from there).
HTML_MAX_LIMIT = 500
OAS30_MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"


@router.get("", summary="Landing page", response_model=schemas.Landing)
async def landing(request: Request, caller: CallerDep, f: FormatParam = None) -> Response:
    fmt = negotiate(request, f)
    here = base(request)
    root = str(request.base_url).rstrip("/")
    links = [
        *self_links(request, fmt),
        link(here + "/api", "service-desc", OAS30_MEDIA_TYPE, "the API definition"),
        link(root + "/docs", "service-doc", "text/html", "the API documentation"),
        link(here + "/conformance", "conformance", "application/json"),
        link(here + "/collections", "data", "application/json"),
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


@router.get("/conformance", summary="Conformance classes", response_model=schemas.Conformance)
async def conformance(request: Request, caller: CallerDep, f: FormatParam = None) -> Response:
    fmt = negotiate(request, f)
    links = self_links(request, fmt)
    if fmt == "html":
        return render("conformance.html", "Conformance", conforms_to=CONFORMANCE, links=links)
    return JSONResponse({"conformsTo": CONFORMANCE, "links": links})


async def _describe(session: AsyncSession, request: Request, layer: Layer) -> dict[str, Any]:
    box = await statements.spatial_extent(session, layer)
    extent: dict[str, Any] = {"spatial": {"bbox": [box or [-180, -90, 180, 90]], "crs": CRS84_URI}}
    if layer.temporal_extent_sql:
        t = await fetch_row(session, layer.temporal_extent_sql)
        assert t is not None  # an aggregate always answers one row
        extent["temporal"] = {
            "interval": [[t[0].isoformat() if t[0] else None, t[1].isoformat() if t[1] else None]]
        }
    return {
        "id": layer.id,
        "title": layer.title,
        "description": layer.description,
        "extent": extent,
        "itemType": "feature",
        "crs": SUPPORTED_CRS,
        "storageCrs": CRS84_URI,
        "links": collection_links(request, layer),
    }


@router.get("/collections", summary="Collections", response_model=schemas.Collections)
async def collections(
    request: Request, session: SessionDep, caller: CallerDep, f: FormatParam = None
) -> Response:
    fmt = negotiate(request, f)
    described = [await _describe(session, request, layer) for layer in LAYERS.values()]
    links = self_links(request, fmt)
    if fmt == "html":
        return render("collections.html", "Collections", collections=described, links=links)
    return JSONResponse({"links": links, "collections": described})


@router.get(
    "/collections/{collection_id}",
    summary="One collection",
    response_model=schemas.Collection,
)
async def collection(
    request: Request,
    layer: CollectionDep,
    session: SessionDep,
    caller: CallerDep,
    f: FormatParam = None,
) -> Response:
    fmt = negotiate(request, f)
    described = await _describe(session, request, layer)
    if fmt == "html":
        return render(
            "collection.html", described["title"], collection=described, links=described["links"]
        )
    return JSONResponse(described)


@router.get("/collections/{collection_id}/queryables", summary="What a filter may name")
async def queryables(
    request: Request, layer: CollectionDep, caller: CallerDep, f: FormatParam = None
) -> Response:
    fmt = negotiate(request, f)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base(request)}/collections/{layer.id}/queryables",
        "type": "object",
        "title": layer.title,
        "properties": {
            name: {"title": name, **JSON_SCHEMA_TYPES[q.type]}
            for name, q in layer.queryables.items()
        },
        "additionalProperties": False,
        "links": self_links(request, fmt, "application/schema+json"),
    }
    if fmt == "html":
        return render(
            "queryables.html",
            f"Queryables of {layer.title}",
            properties=schema["properties"],
            links=schema["links"],
        )
    return JSONResponse(schema, media_type="application/schema+json")


@router.get("/collections/{collection_id}/items", summary="Features of a collection")
async def items(
    request: Request,
    layer: CollectionDep,
    session: SessionDep,
    caller: CallerDep,
    out: OutputCrsDep,
    bbox: BboxDep,
    when: DatetimeDep,
    conditions: ConditionsDep,
    order: SortbyDep,
    chosen: PropertiesDep,
    limit: LimitParam = DEFAULT_LIMIT,
    offset: OffsetParam = 0,
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
    keys = statements.items_where(layer, caller, bbox, when, conditions)
    page = statements.page_statement(layer, out, keys, order, chosen, limit, offset)
    features, has_next = page_features(await fetch_rows(session, page.text, page.params), limit)
    returned = len(features)
    matched: int | None = None
    if not has_next and (returned > 0 or offset == 0):
        matched = offset + returned  # the last page: the total is known without counting
    elif count or (conditions is None and not bbox and not when and offset == 0):
        # The first page of the whole collection (as the caller may see it) is counted:
        # QGIS and GDAL learn a layer's size from it, once per layer opened.
        matched = await fetch_value(session, statements.count_statement(layer, keys), keys.params)
    links = page_links(request, fmt, layer, offset=offset, limit=limit, has_next=has_next)
    if fmt == "html":
        return _items_html(layer, [json.loads(f) for f in features], links, matched)
    stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    counted = f',"numberMatched":{matched}' if matched is not None else ""
    tail = (
        f',"numberReturned":{returned}{counted},"timeStamp":"{stamp}",'
        f'"links":{json.dumps(links)}{out.geojson_member}}}'
    )
    return raw_geojson(collection_body(features, tail), headers={"Content-Crs": f"<{out.uri}>"})


# What a reader looks for first in a row, when the layer has it.
_LEADING = ("title", "name", "code", "category", "kind", "status", "state")


def ordered_columns(layer: Layer, features: list[dict[str, Any]]) -> list[str]:
    """The properties present, in the layer's declared order (its name, then what it is),
    then any others as they come; not in the order the database stores them."""
    present: list[str] = []
    for feature in features:
        for name in feature.get("properties") or {}:
            if name not in present:
                present.append(name)
    declared = [f.name for f in layer.fields]
    first = [n for n in _LEADING if n in present]
    rest = [n for n in declared if n in present and n not in first]
    return first + rest + [n for n in present if n not in first and n not in rest]


def _items_html(
    layer: Layer, features: list[dict[str, Any]], links: list[dict[str, str]], matched: int | None
) -> Response:
    columns = ordered_columns(layer, features)
    return render(
        "items.html",
        f"{layer.title}: items",
        collection_id=layer.id,
        features=features,
        columns=columns,
        links=links,
        number_matched=matched,
    )


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature")
async def item(
    request: Request,
    layer: CollectionDep,
    feature_id: Annotated[str, Path(max_length=80)],
    session: SessionDep,
    caller: CallerDep,
    out: OutputCrsDep,
    f: FormatParam = None,
) -> Response:
    fmt = negotiate(request, f)
    one = statements.feature_statement(layer, out, caller, feature_id)
    found = (await session.execute(text(one.text), one.params)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no feature {feature_id!r} in {layer.id}")
    found["links"] = feature_links(request, fmt, layer)
    if fmt == "html":
        return render(
            "item.html",
            f"{layer.title}: {feature_id}",
            feature=found,
            columns=ordered_columns(layer, [found]),
            links=found["links"],
        )
    body = json.dumps(found, ensure_ascii=False)
    if out.geojson_member:
        body = body[:-1] + out.geojson_member + "}"
    return raw_geojson(body, headers={"Content-Crs": f"<{out.uri}>"})
