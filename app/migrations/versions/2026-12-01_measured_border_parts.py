"""measured border parts: each ST_Subdivide piece of a border also as a LineStringM whose M
is the geodesic metre along the whole line, so an event's chainage and side come from the
piece beside it rather than from the whole line (app/incidents/context.py); a planar GiST
index on the pieces for the nearest ones in degrees

Revision ID: 7a3d5e9b2c61
Revises: 4c8e1a5f7b32
Create Date: 2026-12-01 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "7a3d5e9b2c61"
down_revision: str | None = "4c8e1a5f7b32"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# ST_Subdivide drops M: each vertex of a piece takes its M from the measured line (a vertex
# lies on the line, so the closest point is the vertex itself).
MEASURED_PART_FUNCTION = """
CREATE OR REPLACE FUNCTION bordermark_measured_part(measured_line geometry, part geometry)
RETURNS geometry LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT ST_SetSRID(ST_MakeLine(array_agg(
           ST_MakePointM(ST_X(d.geom), ST_Y(d.geom), ST_InterpolatePoint(measured_line, d.geom))
           ORDER BY d.path)), ST_SRID(part))
  FROM ST_DumpPoints(part) d
$$
"""


def upgrade() -> None:
    op.execute(MEASURED_PART_FUNCTION)
    op.add_column(
        "border_parts",
        sa.Column(
            "measured_geom",
            Geometry(geometry_type="LINESTRINGM", srid=4326, dimension=3, spatial_index=False),
            nullable=True,
        ),
    )
    op.execute(
        "UPDATE border_parts bp SET measured_geom = bordermark_measured_part(b.measured_geom, bp.geom) "
        "FROM borders b WHERE b.id = bp.border_id"
    )
    op.alter_column("border_parts", "measured_geom", nullable=False)
    op.create_index(
        "ix_border_parts_geom", "border_parts", ["geom"], unique=False, postgresql_using="gist"
    )


def downgrade() -> None:
    op.drop_index("ix_border_parts_geom", table_name="border_parts", postgresql_using="gist")
    op.drop_column("border_parts", "measured_geom")
    op.execute("DROP FUNCTION bordermark_measured_part(geometry, geometry)")
