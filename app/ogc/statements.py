"""The SQL of the OGC API's reads over a layer: a page of features (its keys first, then
their features), the count, the extents. Values are bound; the fragments written into the
text are the layer's own declaration and numbers this module produced."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.db import fetch_row
from app.errors import BadRequest
from app.geo.crs import OutsideAreaOfUse, is_geographic, to_wgs84
from app.geojson import COORD_DECIMALS, envelope_sql, page_rows_sql
from app.layers.spec import Layer
from app.ogc.cql2_sql import parse, to_sql
from app.ogc.crs import CRS84, OutputCrs
from app.ogc.params import Bbox, Interval
from app.sql import Sql

# A bbox's keys come from the extent box index (an index-only scan, then a sort) where
# PostGIS expects at most this many matches, else from the key's own order read until the
# page is full: the two cost the same near sqrt(page x rows / 0.26 us a box entry).
EXTENT_BOX_AT_MOST = 50_000
# Past this many rows a layer's spatial extent is PostGIS's estimate (as tipg's): exact,
# it reads every row, on every /collections request map clients send when they connect.
EXACT_EXTENT_UP_TO_ROWS = 20_000


def geometry_sql(layer: Layer, out: OutputCrs) -> str:
    """The layer's feature with its geometry in the output CRS."""
    if out.srid == 4326 and not out.flip:
        return layer.feature
    expr = layer.geom if out.srid == 4326 else f"ST_Transform({layer.geom}, {out.srid})"
    if out.flip:
        expr = f"ST_FlipCoordinates({expr})"
    decimals = COORD_DECIMALS if is_geographic(out.srid) else 3  # millimetres
    # Options 0: no `crs` inside each geometry (the document carries one, geojson_member).
    return layer.feature_with_geometry(f"ST_AsGeoJSON({expr}, {decimals}, 0)")


def _envelope(bbox: Bbox) -> str:
    """The bbox as SQL in CRS84, its numbers written out (geojson.envelope_sql)."""
    x1, y1, x2, y2 = bbox.corners
    if bbox.crs.flip:  # given as lat/lon (northing first)
        x1, y1, x2, y2 = y1, x1, y2, x2
    if bbox.crs.srid != 4326:  # PostGIS fails on corners outside a projection's domain
        try:
            to_wgs84(np.array([[x1, y1], [x2, y2], [x1, y2], [x2, y1]]), bbox.crs.srid)
        except OutsideAreaOfUse as exc:
            raise BadRequest(f"bbox: {exc}", extra={"field": "bbox"}) from exc
    envelope = envelope_sql(x1, y1, x2, y2, bbox.crs.srid)
    return envelope if bbox.crs.srid == 4326 else f"ST_Transform({envelope}, 4326)"


@dataclass(frozen=True)
class KeyFilter:
    """An items request's WHERE, and for a bbox on a layer with an extent box, the same
    on the box and the bbox (which of the two finds the keys, PostGIS's estimate decides
    in the statement)."""

    matching: Sql
    on_extent_box: str | None = None  # binds the same values as `matching`
    envelope: str | None = None

    @property
    def where(self) -> str:
        return self.matching.text

    @property
    def params(self) -> Mapping[str, Any]:
        return self.matching.params


def items_where(
    layer: Layer,
    caller: Caller,
    bbox: Bbox | None = None,
    when: Interval | None = None,
    conditions: Sql | None = None,
) -> KeyFilter:
    clauses = [layer.scope(caller)] if layer.scope else []
    if conditions is not None:
        clauses.append(conditions)
    if when and layer.datetime:
        if when.is_instant:
            clauses.append(Sql(f"{layer.datetime} = :t0", {"t0": when.start}))
        else:
            if when.start:
                clauses.append(Sql(f"{layer.datetime} >= :t0", {"t0": when.start}))
            if when.end:
                clauses.append(Sql(f"{layer.datetime} <= :t1", {"t1": when.end}))
    if not bbox:
        return KeyFilter(Sql.all(clauses))
    envelope = _envelope(bbox)
    on_geometry = Sql(f"{layer.geom} && {envelope}")
    if layer.extent_box is None:
        return KeyFilter(Sql.all([*clauses, on_geometry]))
    # The bbox's own corners: box(geometry) would read the envelope's stored box, rounded
    # outward to float4 (each feature's extent box holds its own doubles).
    corners = (
        "(SELECT box(point(min(ST_X(d.geom)), min(ST_Y(d.geom))), "  # noqa: S608
        f"point(max(ST_X(d.geom)), max(ST_Y(d.geom)))) FROM ST_DumpPoints({envelope}) d)"
    )
    on_box = f"{layer.extent_box} && {corners}"
    # The geometry's && lets in points up to a metre outside (float4 boxes); both ways test
    # the extent box too, so they give the same features. The CASE keeps the planner's
    # estimate on the geometry's statistics.
    exact = Sql(f"CASE WHEN {on_box} THEN true ELSE false END")
    by_box = Sql.all([*clauses, Sql(on_box)])
    return KeyFilter(Sql.all([*clauses, on_geometry, exact]), by_box.text, envelope)


def _select_properties(feature: str, chosen: list[str] | None) -> str:
    """The feature with only the chosen properties (a bound list, never SQL text)."""
    if chosen is None:
        return feature
    return (
        f"jsonb_set(({feature})::jsonb, '{{properties}}', coalesce((SELECT jsonb_object_agg(k, v) "  # noqa: S608
        f"FROM jsonb_each(({feature})::jsonb -> 'properties') AS p(k, v) "
        "WHERE k = ANY(:chosen_properties)), '{}'::jsonb))"
    )


def _keys_sql(layer: Layer, keys: KeyFilter, order: str) -> tuple[str, str]:
    """The page's keys in order (a subquery), and the CTE it needs before it, if any."""

    def matching(where: str) -> str:
        return (
            f"SELECT {layer.key} AS k FROM {layer.source_for(where, order)} WHERE {where} "  # noqa: S608
            f"ORDER BY {order} LIMIT :limit_plus_one OFFSET :offset"
        )

    if keys.on_extent_box is None:
        return matching(keys.where), ""
    # Both ways in one statement, one of them run: the gate is decided once, before either,
    # from the statistics of the layer's own geometry column. Outside each way's query, it
    # does not keep PostgreSQL from dropping a join nothing reads.
    gate = f"""gate AS MATERIALIZED (
          SELECT bordermark_few_match('{layer.table_name}', '{layer.geom_column}',
                                      {keys.envelope}, {EXTENT_BOX_AT_MOST}) AS few
        ),"""
    both = f"""SELECT k FROM ({matching(keys.on_extent_box)}) by_box
            WHERE (SELECT few FROM gate)
            UNION ALL
            SELECT k FROM ({matching(keys.where)}) by_geometry
            WHERE NOT (SELECT few FROM gate)"""  # noqa: S608
    return both, gate


def page_statement(
    layer: Layer,
    out: OutputCrs,
    keys: KeyFilter,
    order: str,
    chosen: list[str] | None,
    limit: int,
    offset: int,
) -> Sql:
    """An items page's one statement and its parameters: the page's features, a row each
    in `order` (UTF-8 bytes), one more than `limit` when more follow (page_features)."""
    if layer.stored and out == CRS84 and chosen is None:
        # The stored features, as they are; one missing (rows written with the triggers
        # off, until bordermark_rebuild_incident_features()) is built here instead.
        built = f"SELECT ({layer.feature})::text FROM {layer.source} WHERE {layer.key} = keys.k"  # noqa: S608
        page = f"""
          SELECT coalesce(s.feature, ({built})) AS feature, keys.rn
          FROM keys LEFT JOIN {layer.stored} s ON s.{layer.stored_key} = keys.k"""  # noqa: S608
        feature = "feature"
    else:
        page = f"""
          SELECT {geometry_sql(layer, out)} AS feature, keys.rn
          FROM {layer.source} JOIN keys ON keys.k = {layer.key}"""  # noqa: S608
        feature = _select_properties("feature", chosen)
    key_sql, gate = _keys_sql(layer, keys, order)
    sql = f"""
        WITH {gate} keys AS (
          -- The page's keys first, then features for those rows only; their places in the
          -- page come with them (an array keeps its order), and one more key than the page
          -- says a next page exists.
          SELECT k, rn FROM unnest(ARRAY(
            {key_sql}
          )) WITH ORDINALITY AS keys(k, rn)
        ), page AS ({page}
        )
        {page_rows_sql(feature)}
        """  # noqa: S608
    page_of = Sql(sql, keys.params).bind(limit_plus_one=limit + 1, offset=offset)
    return page_of if chosen is None else page_of.bind(chosen_properties=chosen)


def items_page_statement(
    layer: Layer,
    caller: Caller,
    *,
    limit: int,
    bbox: list[float] | None = None,
    cql_text: str | None = None,
) -> Sql:
    """What `items` sends for a first page in CRS84 with this bbox and CQL2 text filter;
    the bench runs it directly as the SQL floor of the same request."""
    cql = to_sql(parse(cql_text, None), layer.queryables) if cql_text else None
    box = Bbox(bbox, CRS84) if bbox else None
    keys = items_where(layer, caller, box, None, cql)
    return page_statement(layer, CRS84, keys, layer.key, None, limit, 0)


def count_statement(layer: Layer, keys: KeyFilter) -> str:
    return f"SELECT count(*) FROM {layer.source_for(keys.where)} WHERE {keys.where}"  # noqa: S608


def feature_statement(layer: Layer, out: OutputCrs, caller: Caller, feature_id: str) -> Sql:
    """One feature by its id within the caller's scope."""
    in_scope = items_where(layer, caller)
    sql = (
        f"SELECT ({geometry_sql(layer, out)})::jsonb FROM {layer.source} "  # noqa: S608
        f"WHERE {in_scope.where} AND {layer.key}::text = :fid"
    )
    return Sql(sql, in_scope.params).bind(fid=feature_id)


async def spatial_extent(session: AsyncSession, layer: Layer) -> list[float] | None:
    """The layer's bbox: PostGIS's estimate past EXACT_EXTENT_UP_TO_ROWS rows (the box at
    the head of its spatial index, rounded outward), else exactly; exactly too where the
    geometry is another table's (no statistics of the layer's own to read)."""
    estimated = None
    if layer.geom_is_own:
        estimated = await fetch_row(
            session,
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ("
            "SELECT CASE WHEN t.reltuples > :exact_up_to "
            "THEN ST_EstimatedExtent(CAST(:table AS text), CAST(:column AS text)) END AS e "
            "FROM pg_class t WHERE t.oid = CAST(CAST(:table AS text) AS regclass)) x",
            {
                "table": layer.table_name,
                "column": layer.geom_column,
                "exact_up_to": EXACT_EXTENT_UP_TO_ROWS,
            },
        )
    row = estimated if estimated is not None and estimated[0] is not None else None
    if row is None:  # a small table, or no statistics yet: exactly
        row = await fetch_row(
            session,
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "  # noqa: S608
            f"FROM (SELECT ST_Extent({layer.geom}) AS e FROM {layer.source_for(layer.geom)}) x",
        )
    return None if row is None or row[0] is None else [float(v) for v in row]
