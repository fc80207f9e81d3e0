"""The built-in map page at `/map`: static HTML, CSS and an ES module that draws the vector
tiles with MapLibre GL JS. The page itself holds no data (it asks for a token and then
calls the API), so it is served without one; MapLibre comes from the npm package that
`make web` installs, never from a CDN."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, Response

from app.errors import NotFound, ServiceUnavailable
from app.params import app_settings

STATIC = FilePath(__file__).parent / "static"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
}
# MapLibre runs its worker from a same-origin module file and styles elements from script
# (CSSOM, which style-src does not govern); tiles and API calls stay on this origin.
MAP_CSP = (
    "default-src 'none'; script-src 'self'; worker-src 'self' blob:; connect-src 'self'; "
    "img-src 'self' data: blob:; style-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)


def _file(directory: FilePath, name: str) -> FileResponse:
    path = (directory / name).resolve()
    if path.parent != directory.resolve() or path.suffix not in MEDIA_TYPES or not path.is_file():
        raise NotFound(f"no file {name!r}")
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[path.suffix],
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": MAP_CSP},
    )


@router.get("/map")
async def map_page() -> Response:
    return _file(STATIC, "map.html")


@router.get("/map/static/{name}")
async def static_file(name: Annotated[str, Path(max_length=60)]) -> Response:
    return _file(STATIC, name)


@router.get("/map/vendor/maplibre-gl/{name}")
async def maplibre_file(request: Request, name: Annotated[str, Path(max_length=60)]) -> Response:
    assets = app_settings(request).map_assets_dir
    if not assets.is_dir():
        raise ServiceUnavailable(
            "the map's MapLibre files are not installed: run `make web` (npm ci in web/)"
        )
    return _file(assets, name)
