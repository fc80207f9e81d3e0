"""HTML for the OGC surface: content negotiation (`f=` first, then `Accept`) and pages
rendered by Jinja2 with autoescaping (every value from the database is escaped)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from app.errors import BadRequest
from app.ogc.sketch import sketch

Format = Literal["json", "html"]
FORMATS = {"json": "json", "geojson": "json", "html": "html"}
JSON_TYPES = ("application/json", "application/geo+json", "application/schema+json")

_templates = Environment(
    loader=PackageLoader("app.ogc", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

# Numbers in properties are metres, kilometres or shares: two decimals say enough.
DECIMALS = 2


def shown(value: Any) -> str:
    """A property's value as a reader wants it, not as Python prints it: lists joined,
    objects as `key: value` without their empty members, booleans as yes/no, floats
    rounded, nothing for null (issue 26: `['jointly_agreed']`, `{'unit': None}`, `False`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{DECIMALS}f}".rstrip("0").rstrip(".")
    if isinstance(value, list):
        return ", ".join(shown(v) for v in value)
    if isinstance(value, dict):
        parts = [(k, shown(v)) for k, v in value.items()]
        return "; ".join(f"{k}: {v}" for k, v in parts if v != "")
    return str(value)


def where(geometry: dict[str, Any] | None) -> str:
    """Where a feature is: a point's lon, lat; else its type, vertex count and box."""
    if not geometry:
        return ""
    coordinates: list[list[float]] = []

    def walk(c: Any) -> None:
        if c and isinstance(c[0], int | float):
            coordinates.append(c)
        else:
            for part in c:
                walk(part)

    walk(geometry.get("coordinates") or [])
    if geometry.get("type") == "Point" and coordinates:
        lon, lat = coordinates[0][:2]
        return f"Point {lon:.6f}, {lat:.6f}"
    if not coordinates:
        return str(geometry.get("type", ""))
    xs, ys = [c[0] for c in coordinates], [c[1] for c in coordinates]
    return (
        f"{geometry.get('type')}, {len(coordinates)} vertices, "
        f"{min(xs):.5f}, {min(ys):.5f} – {max(xs):.5f}, {max(ys):.5f}"
    )


_templates.filters["shown"] = shown
_templates.filters["where"] = where
_templates.filters["sketch"] = sketch


def _quality(accept: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for part in accept.split(","):
        media, *options = (p.strip() for p in part.split(";"))
        q = 1.0
        for option in options:
            if option.startswith("q="):
                try:
                    q = float(option[2:])
                except ValueError:
                    q = 0.0
        found[media.lower()] = max(q, found.get(media.lower(), 0.0))
    return found


def negotiate(request: Request, f: str | None) -> Format:
    """`f=json|geojson|html` wins; otherwise HTML only when the client prefers it to JSON
    (browsers do; GDAL, OWSLib and curl send JSON types or `*/*`)."""
    if f is not None:
        chosen = FORMATS.get(f.lower())
        if chosen is None:
            raise BadRequest(f"f must be one of {', '.join(FORMATS)}", extra={"field": "f"})
        return "html" if chosen == "html" else "json"
    accept = _quality(request.headers.get("accept", "*/*"))
    html = accept.get("text/html", 0.0)
    json_q = max([accept.get(t, 0.0) for t in JSON_TYPES] + [accept.get("*/*", 0.0) * 0.99])
    return "html" if html > json_q else "json"


def render(template: str, title: str, **context: Any) -> HTMLResponse:
    page = _templates.get_template(template).render(title=title, **context)
    return HTMLResponse(page)
