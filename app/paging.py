"""Keyset pages of SQL-built GeoJSON features, and their `next` links.

A page query defines a CTE `page(feature, sort_key, rn)` of at most limit + 1 rows; the
tail below aggregates the first `limit` features and returns the sort key of the last one
when another row exists, all in one round trip.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.geojson import (
    encode_cursor,
    feature_collection,
    next_link,
    page_features_sql,
    self_link,
)

PAGE_TAIL_SQL = f"""
SELECT {page_features_sql("feature")},
       count(*) FILTER (WHERE rn <= :limit),
       count(*) > :limit,
       (SELECT sort_key::text FROM page WHERE rn = :limit)
FROM page
"""  # noqa: S608


@dataclass(frozen=True)
class Page:
    features_json: bytes  # the features' JSON array, UTF-8
    number_returned: int
    next_key: list[Any] | None


async def fetch_page(
    session: AsyncSession, page_cte_sql: str, params: Mapping[str, Any], *, limit: int
) -> Page:
    row = (
        await session.execute(
            text(page_cte_sql + PAGE_TAIL_SQL),
            {**params, "limit": limit, "limit_plus_one": limit + 1},
        )
    ).one()
    next_key = json.loads(row[3]) if row[2] and row[3] else None
    return Page(row[0], int(row[1]), next_key)


def page_response(request: Request, page: Page) -> Response:
    links = [self_link(request)]
    if page.next_key is not None:
        links.append(next_link(request, encode_cursor(page.next_key)))
    return feature_collection(page.features_json, number_returned=page.number_returned, links=links)
