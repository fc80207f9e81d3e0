"""The OpenAPI document, completed where FastAPI cannot see: the media types of the
responses the routers build themselves (GeoJSON, CSV, XLSX, GeoPackage, KML, HTML, MVT,
event streams), and the RFC 9457 problem every operation may answer with. Schemathesis
checks the service against this document (tests/operations/test_fuzz.py), so a route that
starts answering something undeclared fails the suite."""

from __future__ import annotations

from fnmatch import fnmatch
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.errors import PROBLEM_MEDIA_TYPE

GEOJSON = "application/geo+json"
HTML = "text/html"
# An export is a file: the binary formats come first, since a generated client reads an
# operation's answers by the first media type it knows (openapi-python-client, with
# content_type_overrides mapping them to application/octet-stream: docs/clients.md).
EXPORT_TYPES = [
    "application/geopackage+sqlite3",
    "application/vnd.google-earth.kml+xml",
    "text/csv",
    GEOJSON,
]
# (method, path pattern) -> the media types of its success responses, first match wins.
SUCCESS_MEDIA_TYPES: list[tuple[str, str, list[str]]] = [
    ("GET", "/api/v1/exports/*", EXPORT_TYPES),
    (
        "GET",
        "/api/v1/reports/districts",
        [
            "application/json",
            "text/csv",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ],
    ),
    (
        "GET",
        "/api/v1/reports/provinces/*",
        [
            "application/json",
            HTML,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ],
    ),
    ("GET", "/api/v1/documents/*/file", ["application/octet-stream", "application/pdf", "image/*"]),
    ("*", "/api/v1/documents*", ["application/json"]),
    ("*", "/api/v1/approvals*", ["application/json"]),
    ("*", "/api/v1/incidents/*/steps", ["application/json"]),
    ("*", "/api/v1/incidents/*/breaches", ["application/json"]),
    ("*", "/api/v1/incidents/*/breach-reviews", ["application/json"]),
    ("GET", "/api/v1/events", ["text/event-stream"]),
    ("GET", "/api/v1/incidents/*/attachments/*", ["application/octet-stream", "image/*", "*/*"]),
    ("GET", "/api/v1/incidents/*/history", ["application/json"]),
    ("GET", "/api/v1/incidents/*/similar", ["application/json"]),
    ("GET", "/api/v1/incidents/*/attachments", ["application/json"]),
    ("POST", "/api/v1/incidents/*/attachments", ["application/json"]),
    ("POST", "/api/v1/incidents:batch", ["application/json"]),
    ("*", "/api/v1/incidents*", [GEOJSON]),
    ("*", "/api/v1/borders*", [GEOJSON]),
    ("POST", "/api/v1/markers:import", ["application/json"]),
    ("GET", "/api/v1/segments/not-patrolled", ["application/json"]),
    ("*", "/api/v1/markers*", [GEOJSON]),
    ("*", "/api/v1/segments*", [GEOJSON]),
    ("*", "/api/v1/clearing-works*", [GEOJSON]),
    ("POST", "/api/v1/crossings/*/links", ["application/json"]),
    ("POST", "/api/v1/inspections", ["application/json"]),
    ("POST", "/api/v1/repairs", ["application/json"]),
    ("GET", "/api/v1/inspections", [GEOJSON]),
    ("GET", "/api/v1/repairs", [GEOJSON]),
    ("*", "/api/v1/surveys*", ["application/json"]),
    ("POST", "/api/v1/patrols", ["application/json"]),
    ("GET", "/api/v1/patrols", [GEOJSON]),
    ("*", "/api/v1/disputed-areas*", ["application/json"]),
    ("GET", "/api/v1/units*", ["application/json"]),
    ("GET", "/api/v1/counterpart-units*", ["application/json"]),
    ("GET", "/api/v1/offline/*", ["application/geopackage+sqlite3"]),
    ("*", "/api/v1/crossings*", [GEOJSON]),
    ("GET", "/api/v1/chainage*", [GEOJSON]),
    ("GET", "/ogc/api", ["application/vnd.oai.openapi+json;version=3.0", HTML]),
    ("GET", "/ogc/collections/*/queryables", ["application/schema+json", HTML]),
    ("GET", "/ogc/collections/*/items*", [GEOJSON, HTML]),
    ("GET", "/ogc*", ["application/json", HTML]),
    ("GET", "/tiles/*.mvt", ["application/vnd.mapbox-vector-tile"]),
    ("GET", "/metrics", ["text/plain"]),
]
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}


# What a success response of each media type is, for the operations whose routers build
# it themselves (FastAPI sees no model): generated clients then parse GeoJSON and JSON into
# typed objects and hand files over as bytes (an export declared with an empty schema was
# parsed as JSON by openapi-python-client's client, which crashed on CSV).
GEOJSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A GeoJSON Feature or FeatureCollection (RFC 7946, lon/lat)",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature", "FeatureCollection"]},
        "id": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        "geometry": {"anyOf": [{"type": "object"}, {"type": "null"}]},
        "properties": {"anyOf": [{"type": "object"}, {"type": "null"}]},
        "features": {"type": "array", "items": {"type": "object"}},
        "links": {"type": "array", "items": {"type": "object"}},
        "numberReturned": {"type": "integer"},
        "numberMatched": {"type": "integer"},
    },
}
JSON_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}
BINARY: dict[str, Any] = {"type": "string", "format": "binary"}
TEXT: dict[str, Any] = {"type": "string"}
TEXT_TYPES = {HTML, "text/event-stream", "text/plain"}


def _schema_of(media_type: str) -> dict[str, Any]:
    if media_type == GEOJSON:
        return {"$ref": "#/components/schemas/GeoJSON"}
    if media_type in TEXT_TYPES:
        return TEXT
    if media_type.startswith("application/") and "json" in media_type:
        return JSON_OBJECT
    return BINARY  # CSV, GeoPackage, KML, XLSX, vector tiles, attachments


# Operation ids a generated client reads as method names (submit_incident), not FastAPI's
# path-derived strings (submit_incident_api_v1_incidents_post): the route's function name,
# a few made plainer, the OGC ones under ogc_.
RENAMED = {
    "resolve": "resolve_chainage",
    "locate": "locate_on_border",
    "tile": "get_tile",
    "tilejson": "get_tilejson",
    "deliveries": "list_deliveries",
    "districts_report": "district_report",
}


def operation_id(route: APIRoute) -> str:
    name = RENAMED.get(route.name, route.name)
    return f"ogc_{name}" if route.path.startswith("/ogc") else name


def _media_types(method: str, path: str) -> list[str] | None:
    for want_method, pattern, types in SUCCESS_MEDIA_TYPES:
        if want_method in ("*", method) and fnmatch(path, pattern):
            return types
    return None


def complete(doc: dict[str, Any]) -> dict[str, Any]:
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["GeoJSON"] = GEOJSON_SCHEMA
    problem = {
        "description": "A problem (RFC 9457): 4xx for the caller's request, 503 to retry",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # FastAPI's HTTPValidationError: ours is a problem
            responses["default"] = problem
            if method.upper() == "POST" and "201" in responses and "200" not in responses:
                # Client-id submissions: a replay of the same request answers 200.
                responses["200"] = {**responses["201"], "description": "Already stored"}
            types = _media_types(method.upper(), path)
            if types is None:
                for code, response in responses.items():
                    for declared in (response.get("content") or {}).values():
                        if code.startswith("2") and not declared.get("schema"):
                            declared["schema"] = JSON_OBJECT
                continue
            for code, response in responses.items():
                if code.startswith("2"):
                    content = response.get("content") or {}
                    schema = (content.get("application/json") or {}).get("schema") or {}
                    response["content"] = {
                        t: {"schema": schema if schema and "json" in t else _schema_of(t)}
                        for t in types
                    }
            if method.upper() == "GET" and path.startswith("/tiles/") and path.endswith(".mvt"):
                responses["204"] = {"description": "No feature falls in this tile"}
                responses["304"] = {"description": "Not modified (If-None-Match)"}
    return doc


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
