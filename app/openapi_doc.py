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

from app.errors import PROBLEM_MEDIA_TYPE

GEOJSON = "application/geo+json"
HTML = "text/html"
EXPORT_TYPES = [
    GEOJSON,
    "text/csv",
    "application/geopackage+sqlite3",
    "application/vnd.google-earth.kml+xml",
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
    ("GET", "/api/v1/events", ["text/event-stream"]),
    ("GET", "/api/v1/incidents/*/attachments/*", ["application/octet-stream", "image/*", "*/*"]),
    ("GET", "/api/v1/incidents/*/history", ["application/json"]),
    ("GET", "/api/v1/incidents/*/similar", ["application/json"]),
    ("GET", "/api/v1/incidents/*/attachments", ["application/json"]),
    ("POST", "/api/v1/incidents/*/attachments", ["application/json"]),
    ("POST", "/api/v1/incidents:batch", ["application/json"]),
    ("*", "/api/v1/incidents*", [GEOJSON]),
    ("*", "/api/v1/borders*", [GEOJSON]),
    ("*", "/api/v1/markers*", [GEOJSON, "application/json"]),
    ("*", "/api/v1/segments*", [GEOJSON, "application/json"]),
    ("*", "/api/v1/clearing-works*", [GEOJSON]),
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


def _media_types(method: str, path: str) -> list[str] | None:
    for want_method, pattern, types in SUCCESS_MEDIA_TYPES:
        if want_method in ("*", method) and fnmatch(path, pattern):
            return types
    return None


def complete(doc: dict[str, Any]) -> dict[str, Any]:
    doc.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
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
                continue
            for code, response in responses.items():
                if code.startswith("2"):
                    content = response.get("content") or {}
                    schema = (content.get("application/json") or {}).get("schema") or {}
                    response["content"] = {t: {"schema": schema} for t in types}
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
