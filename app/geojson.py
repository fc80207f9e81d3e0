"""Helpers for SQL-first GeoJSON responses: PostGIS builds the features, Python only wraps
them with paging links, so large pages are never parsed back into Python objects."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from app.errors import InvalidInput
from app.urls import with_query

GEOJSON_MEDIA_TYPE = "application/geo+json"
COORD_DECIMALS = 7  # about 1 cm on the ground


class GeoJSONResponse(Response):
    media_type = GEOJSON_MEDIA_TYPE


def raw_geojson(
    body: str | bytes, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    content = body if isinstance(body, bytes) else body.encode("utf-8")
    return GeoJSONResponse(content=content, status_code=status_code, headers=headers)


def page_features_sql(feature: str) -> str:
    """The first `:limit` rows of a page CTE (`feature`, `rn`), in `rn` order, as one JSON
    array in UTF-8 bytes rather than as text. A page is up to megabytes, mostly Vietnamese
    (two bytes a character in a Python str): as text, the service would decode it, copy it
    into the collection and encode it again; as bytes it is copied once."""
    features = f"coalesce(json_agg({feature} ORDER BY rn) FILTER (WHERE rn <= :limit), '[]')"
    return f"convert_to({features}::text, 'UTF8')"


def page_rows_sql(feature: str) -> str:
    """A page CTE's (`feature`, `rn`) features, a row each in `rn` order, as UTF-8 bytes
    (see page_features_sql): joined by the service (page_features, collection_body), not
    aggregated by PostgreSQL, whose string_agg, concatenation and conversion of a megabyte
    cost more than the service's join."""
    return f"SELECT convert_to(({feature})::text, 'UTF8') FROM page ORDER BY rn"  # noqa: S608


def page_features(rows: Sequence[Sequence[bytes]], limit: int) -> tuple[list[bytes], bool]:
    """A page's features from its rows (page_rows_sql, which reads one more than `limit` to
    tell whether a next page exists): each feature's JSON, and whether more follow."""
    return [row[0] for row in rows[:limit]], len(rows) > limit


def encode_cursor(key: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, types: Sequence[type]) -> list[Any]:
    """Decode a `next` cursor and check its shape; a tampered cursor is a 422, not a 500."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError("wrong length")
        for value, kind in zip(values, types, strict=True):
            # PostgreSQL writes a float8 that is whole as `0`, which JSON reads as an int
            # (a near page's first incident, at the very point asked about).
            accepted = (float, int) if kind is float else kind
            if not isinstance(value, accepted) or isinstance(value, bool):
                raise ValueError("wrong type")
        return values
    except (ValueError, TypeError) as exc:
        raise InvalidInput("cursor is not one this service issued", field="cursor") from exc


def next_link(
    request: Request, cursor: str, *, media_type: str = GEOJSON_MEDIA_TYPE
) -> dict[str, str]:
    return {"rel": "next", "type": media_type, "href": with_query(str(request.url), cursor=cursor)}


def self_link(request: Request, *, media_type: str = GEOJSON_MEDIA_TYPE) -> dict[str, str]:
    return {"rel": "self", "type": media_type, "href": str(request.url)}


def feature_collection(
    features_json: str | bytes,
    *,
    number_returned: int,
    links: list[dict[str, str]],
    **members: Any,
) -> Response:
    extra = "".join(
        f",{json.dumps(k)}:{json.dumps(v, ensure_ascii=False)}" for k, v in members.items()
    )
    tail = f',"numberReturned":{number_returned},"links":{json.dumps(links)}{extra}}}'
    return raw_geojson(collection_body(features_json, tail))


COLLECTION_HEAD = b'{"type":"FeatureCollection","features":'


def collection_body(features: str | bytes | Sequence[bytes], tail: str) -> bytes:
    """`{"type":"FeatureCollection","features":[...]` and the rest of its members (`tail`,
    from its first comma to the closing brace), in one copy: `features` as the JSON array,
    or as each feature's JSON (one join: joining in steps copies a megabyte page twice)."""
    if isinstance(features, str):
        features = features.encode()
    if isinstance(features, bytes):
        return b"".join((COLLECTION_HEAD, features, tail.encode()))
    parts = [COLLECTION_HEAD + b"["]
    for feature in features:
        parts += (feature, b",")
    if len(parts) > 1:
        parts.pop()  # the comma after the last feature
    parts.append(b"]" + tail.encode())
    return b"".join(parts)


def envelope_sql(x1: float, y1: float, x2: float, y2: float, srid: int = 4326) -> str:
    """ST_MakeEnvelope of a bbox, its numbers written into the statement, not bound.

    Bound, they let PostgreSQL keep one generic plan for every bbox once a connection has
    run the statement five times, and that plan cannot know how much a bbox holds (a large
    bbox after small ones took many times its own plan). Written out, each bbox is planned
    for itself. Finite floats only (repr is a numeric literal)."""
    corners = [float(v) for v in (x1, y1, x2, y2)]
    if not all(math.isfinite(v) for v in corners):
        raise ValueError(f"a bbox of finite numbers, not {corners}")
    return f"ST_MakeEnvelope({', '.join(map(repr, corners))}, {int(srid)})"


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """`minlon,minlat,maxlon,maxlat` in EPSG:4326."""
    if text is None or text == "":
        return None
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError as exc:
        raise InvalidInput(
            "bbox must be four numbers: minlon,minlat,maxlon,maxlat", field="bbox"
        ) from exc
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise InvalidInput(
            "bbox must be four finite numbers: minlon,minlat,maxlon,maxlat", field="bbox"
        )
    x1, y1, x2, y2 = parts
    if not (-180 <= x1 <= x2 <= 180 and -90 <= y1 <= y2 <= 90):
        raise InvalidInput(
            "bbox must satisfy -180 <= minlon <= maxlon <= 180 and -90 <= minlat <= maxlat <= 90",
            field="bbox",
        )
    return x1, y1, x2, y2
