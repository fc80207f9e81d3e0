"""incident dimension index: the incidents by geometry dimension, for the OGC collections
that hold one geometry type each (incidents-points, -lines, -areas)

QGIS takes a layer's geometry type from its first features, so the mixed incidents
collection is drawn as points only; the typed collections (app/ogc/collections.py) filter
on ST_Dimension(geom). Lines and areas are a few of many points: without this index a
first page of lines, and its count, would read the whole table to find them.

Revision ID: 5d1e7b3a9c42
Revises: 8a4d2c6e0b19
Create Date: 2026-12-07 06:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5d1e7b3a9c42"
down_revision: str | None = "8a4d2c6e0b19"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_incidents_dimension ON incidents (ST_Dimension(geom), id)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_incidents_dimension")
