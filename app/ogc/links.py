"""The links of OGC API documents: self and alternate in both formats, a collection's."""

from __future__ import annotations

from fastapi import Request

from app.geojson import GEOJSON_MEDIA_TYPE
from app.layers.spec import Layer
from app.urls import with_query

QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"


def base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def link(href: str, rel: str, media_type: str, title: str | None = None) -> dict[str, str]:
    found = {"href": href, "rel": rel, "type": media_type}
    if title:
        found["title"] = title
    return found


def self_links(
    request: Request, fmt: str, json_type: str = "application/json"
) -> list[dict[str, str]]:
    """self in the format served, alternate in the other one."""
    url = str(request.url)
    as_json = link(with_query(url, f="json"), "self", json_type, "this document")
    as_html = link(with_query(url, f="html"), "self", "text/html", "this document as HTML")
    if fmt == "html":
        return [as_html, {**as_json, "rel": "alternate", "title": "this document as JSON"}]
    return [as_json, {**as_html, "rel": "alternate"}]


def collection_links(request: Request, layer: Layer) -> list[dict[str, str]]:
    here = f"{base(request)}/collections/{layer.id}"
    return [
        link(here, "self", "application/json"),
        link(f"{here}?f=html", "alternate", "text/html"),
        link(f"{here}/items", "items", GEOJSON_MEDIA_TYPE, layer.title),
        link(f"{here}/items?f=html", "items", "text/html", layer.title),
        link(f"{here}/queryables", QUERYABLES_REL, "application/schema+json"),
    ]


def feature_links(request: Request, fmt: str, layer: Layer) -> list[dict[str, str]]:
    """An items page's or a feature's own links, and its collection."""
    return [
        *self_links(request, fmt, GEOJSON_MEDIA_TYPE),
        link(f"{base(request)}/collections/{layer.id}", "collection", "application/json"),
    ]


def page_links(
    request: Request, fmt: str, layer: Layer, *, offset: int, limit: int, has_next: bool
) -> list[dict[str, str]]:
    page_type = "text/html" if fmt == "html" else GEOJSON_MEDIA_TYPE
    links = feature_links(request, fmt, layer)
    here = str(request.url)
    if has_next:
        links.append(link(with_query(here, offset=offset + limit, limit=limit), "next", page_type))
    if offset > 0:
        previous = with_query(here, offset=max(0, offset - limit), limit=limit)
        links.append(link(previous, "prev", page_type))
    return links
