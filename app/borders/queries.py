"""SQL-first reads of borders: PostGIS builds the GeoJSON."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.geojson import COORD_DECIMALS

BORDER_FEATURE = f"""
json_build_object(
  'type', 'Feature',
  'id', b.code,
  'geometry', CASE WHEN :with_geometry THEN ST_AsGeoJSON(b.geom, {COORD_DECIMALS})::json END,
  'properties', json_build_object(
    'code', b.code, 'name_vi', b.name_vi, 'name_en', b.name_en,
    'left_country', b.left_country, 'right_country', b.right_country,
    'orientation', b.orientation, 'length_m', round(b.length_m::numeric, 1),
    'official_length_km', b.official_length_km, 'source', b.source, 'accuracy', b.accuracy,
    'marker_count', (SELECT count(*) FROM markers m WHERE m.border_id = b.id),
    'zones', coalesce((
      SELECT json_agg(json_build_object('code', z.code, 'name_vi', z.name_vi,
        'name_en', z.name_en, 'distance_m', z.distance_m, 'article', z.article,
        'description', z.description) ORDER BY z.distance_m)
      FROM border_zones z WHERE z.border_id = b.id), '[]'::json)
  )
)
"""  # noqa: S608


async def borders_features(session: AsyncSession, *, with_geometry: bool) -> tuple[str, int]:
    row = (
        await session.execute(
            text(
                f"SELECT coalesce(json_agg({BORDER_FEATURE} ORDER BY b.code), '[]')::text, "  # noqa: S608
                "count(*) FROM borders b"
            ),
            {"with_geometry": with_geometry},
        )
    ).one()
    return row[0], int(row[1])


async def border_feature(session: AsyncSession, code: str, *, with_geometry: bool) -> str:
    found = (
        await session.execute(
            text(f"SELECT {BORDER_FEATURE}::text FROM borders b WHERE b.code = :code"),  # noqa: S608
            {"code": code.upper(), "with_geometry": with_geometry},
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no border {code!r}; borders are codes such as VN-CN, VN-LA, VN-KH")
    return str(found)
