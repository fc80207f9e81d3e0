"""What an offline package holds for a unit (a province, district, commune or Border Guard
station): its area, and within it (and the unit reach beyond, where the far side faces
it) the markers, the border line, the segments with their clearing age, the zones as
areas, the gates, and the open incidents the caller may read, each a layer of one
GeoPackage (QGIS, QField and GDAL read it).

The layers come from the layer declarations (app/layers) with the area as one more
filter; the area and the zones are written here, having no declaration of their own."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.placement import UNIT_REACH_M
from app.auth.caller import Caller
from app.auth.models import Role
from app.errors import Forbidden, NotFound
from app.exports.layers import GEOMETRY_COLUMNS, LayerQuery, layer_query
from app.incidents.models import OPEN_STATUSES
from app.layers import LAYERS, kml
from app.sql import TRUE, Sql

_AREA = "ST_GeomFromWKB(decode(:area, 'hex'), 4326)"
OPEN = sorted(s.value for s in OPEN_STATUSES)


@dataclass(frozen=True)
class Unit:
    code: str
    level: str
    province: str | None
    area_wkb_hex: str  # the unit's latest shape and its reach beyond


async def find_unit(session: AsyncSession, code: str, caller: Caller) -> Unit:
    """The unit, if the caller may take its package: admins and analysts any, officers and
    reporters those of their province."""
    row = (
        await session.execute(
            text(
                """
                SELECT u.code, u.level, coalesce(u.province_code, u.code) AS province,
                       encode(ST_AsBinary(ST_Buffer(u.geom::geography, :reach)::geometry),
                              'hex') AS area
                FROM admin_units u WHERE u.code = :code
                ORDER BY u.valid_from DESC LIMIT 1
                """
            ),
            {"code": code, "reach": UNIT_REACH_M},
        )
    ).first()
    if row is None:
        raise NotFound(f"no unit {code!r}")
    if caller.role not in (Role.admin, Role.analyst) and caller.province_code != row.province:
        raise Forbidden(f"{code} lies in {row.province}, outside this token's scope")
    return Unit(row.code, row.level, row.province, row.area)


def _within(layer_id: str, unit: Unit, extra: Sql = TRUE) -> LayerQuery:
    layer = LAYERS[layer_id]
    in_area = Sql(f"ST_Intersects({layer.geom}, {_AREA})", {"area": unit.area_wkb_hex})
    return layer_query(layer, in_area & extra)


def _area(unit: Unit) -> LayerQuery:
    attrs = (
        "SELECT u.code, u.level, u.name_vi, u.valid_from, u.valid_to, u.source"  # noqa: S608
        f"{GEOMETRY_COLUMNS.format(g='u.geom')} FROM admin_units u WHERE u.code = :code "
        "ORDER BY u.valid_from DESC LIMIT 1"
    )
    columns = ["code", "level", "name_vi", "valid_from", "valid_to", "source"]
    area_look = kml.plain("area", "ff333333", "a.name_vi")
    return LayerQuery("area", "", attrs, columns, {"code": unit.code}, area_look)


def _zones(unit: Unit) -> LayerQuery:
    """Each zone of each border near the area, as the area within its distance of the line."""
    geom = f"ST_Intersection(ST_Buffer(b.geom::geography, z.distance_m)::geometry, {_AREA})"
    attrs = (
        "SELECT b.code AS border, z.code, z.name_vi, z.distance_m, z.article"  # noqa: S608
        f"{GEOMETRY_COLUMNS.format(g=geom)} "
        "FROM border_zones z JOIN borders b ON b.id = z.border_id "
        f"WHERE ST_Intersects(b.geom, {_AREA}) ORDER BY b.code, z.distance_m"
    )
    columns = ["border", "code", "name_vi", "distance_m", "article"]
    zone_look = kml.plain("zone", "ffb000d0", "a.border || ' ' || a.name_vi")
    return LayerQuery("zones", "", attrs, columns, {"area": unit.area_wkb_hex}, zone_look)


def package_layers(unit: Unit, caller: Caller) -> list[LayerQuery]:
    """The package's layers, in the order QGIS lists them (last drawn on top)."""
    incidents = LAYERS["incidents"]
    assert incidents.scope is not None
    open_in_scope = Sql("i.status = ANY(:open)", {"open": OPEN}) & incidents.scope(caller)
    return [
        _area(unit),
        _zones(unit),
        _within("segments", unit),
        _within("borders", unit),
        _within("markers", unit),
        _within("crossings", unit),
        _within("incidents", unit, open_in_scope),
    ]
