"""border side regions (the area left of each line, to cut events into their sides) and
bordermark_measure (ground length or area of any geometry)

Revision ID: e93904fb7817
Revises: 4c4e553b154d
Create Date: 2026-11-23 20:38:28.776774
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "e93904fb7817"
down_revision: str | None = "4c4e553b154d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Metres for lines, square metres for polygons, 0 for points and empty geometry; the parts
# of an overlay's mixed collection of its own dimension only.
MEASURE_FUNCTION = """
CREATE OR REPLACE FUNCTION bordermark_measure(g geometry)
RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN g IS NULL OR ST_IsEmpty(g) THEN 0
    WHEN ST_Dimension(g) = 1 THEN ST_Length(ST_CollectionExtract(g, 2)::geography)
    WHEN ST_Dimension(g) = 2 THEN ST_Area(ST_CollectionExtract(g, 3)::geography)
    ELSE 0 END
$$
"""


def upgrade() -> None:
    op.execute(MEASURE_FUNCTION)
    from shapely import wkt

    from app.borders.service import side_region

    op.add_geospatial_column(
        "borders",
        sa.Column(
            "left_region",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=True,
        ),
    )
    conn = op.get_bind()
    for border_id, line_wkt in conn.execute(
        sa.text("SELECT id, ST_AsText(geom) FROM borders")
    ).all():
        region = side_region(wkt.loads(line_wkt), left=True)
        conn.execute(
            sa.text(
                "UPDATE borders SET left_region = ST_Multi(ST_GeomFromText(:r, 4326)) WHERE id = :id"
            ),
            {"r": region.wkt, "id": border_id},
        )
    op.alter_column("borders", "left_region", nullable=False)


def downgrade() -> None:
    op.drop_geospatial_column("borders", "left_region")
