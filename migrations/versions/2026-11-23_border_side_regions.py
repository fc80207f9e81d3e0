"""border side regions: the area left of each line, to cut events into their sides

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


def upgrade() -> None:
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
