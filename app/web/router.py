"""The built-in map page at `/map`: static HTML, CSS and an ES module that draws the vector
tiles with MapLibre GL JS; and the API documentation at `/docs` (Swagger UI). The pages
hold no data (they ask for a token and then call the API), so they are served without
one; MapLibre and Swagger UI come from the npm packages that `make web` copies into the
package (app/web/vendor), never from a CDN: border offices often run offline."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from app.errors import NotFound, ServiceUnavailable
from app.params import SettingsDep

STATIC = FilePath(__file__).parent / "static"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
    ".png": "image/png",
    ".geojson": "application/geo+json",
}
VENDOR = FilePath(__file__).parent / "vendor"
# MapLibre runs its worker from a same-origin module file and styles elements from script
# (CSSOM, which style-src does not govern); tiles and API calls stay on this origin.
MAP_CSP = (
    "default-src 'none'; script-src 'self'; worker-src 'self' blob:; connect-src 'self'; "
    "img-src 'self' data: blob:; style-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)

# Swagger UI sets style attributes from script (style-src needs 'unsafe-inline'; no
# script is inline) and shows the schema's images as data: URLs.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; font-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)

# The landing page: no script at all.
PAGE_CSP = "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'"

router = APIRouter(include_in_schema=False)


def _file(directory: FilePath, name: str, csp: str = MAP_CSP) -> FileResponse:
    path = (directory / name).resolve()
    if path.parent != directory.resolve() or path.suffix not in MEDIA_TYPES or not path.is_file():
        raise NotFound(f"no file {name!r}")
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[path.suffix],
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": csp},
    )


@router.get("/")
async def landing_page(request: Request) -> Response:
    """Where a browser starts: the map, the OGC pages, the docs. A client asking for JSON
    gets the same links."""
    if "text/html" not in request.headers.get("accept", ""):
        links = [
            {"href": "/map", "rel": "alternate", "type": "text/html", "title": "the map"},
            {"href": "/ogc", "rel": "data", "type": "application/json", "title": "OGC API"},
            {"href": "/docs", "rel": "service-doc", "type": "text/html"},
            {"href": "/openapi.json", "rel": "service-desc", "type": "application/json"},
        ]
        return JSONResponse({"title": "bordermark", "links": links})
    return _file(STATIC, "index.html", PAGE_CSP)


@router.get("/map")
async def map_page() -> Response:
    return _file(STATIC, "map.html")


@router.get("/map/static/{name}")
async def static_file(name: Annotated[str, Path(max_length=60)]) -> Response:
    return _file(STATIC, name)


@router.get("/map/vendor/maplibre-gl/{name}")
async def maplibre_file(
    request: Request, settings: SettingsDep, name: Annotated[str, Path(max_length=60)]
) -> Response:
    return _file(_vendored(settings.map_assets_dir), name)


@router.get("/map/vendor/places/{name}")
async def places_file(name: Annotated[str, Path(max_length=60)]) -> Response:
    """The countries around Vietnam for the map's shading and names (public domain)."""
    return _file(_vendored(VENDOR / "places"), name)


def _vendored(directory: FilePath) -> FilePath:
    if not directory.is_dir():
        raise ServiceUnavailable(
            f"the browser library {directory.name} is not installed: run `make web`"
        )
    return directory


@router.get("/docs")
async def docs_page() -> Response:
    _vendored(VENDOR / "swagger-ui")
    return _file(STATIC, "docs.html", DOCS_CSP)


@router.get("/docs/assets/{name}")
async def docs_asset(name: Annotated[str, Path(max_length=60)]) -> Response:
    return _file(_vendored(VENDOR / "swagger-ui"), name, DOCS_CSP)
