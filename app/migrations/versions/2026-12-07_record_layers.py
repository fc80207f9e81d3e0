"""record layers: writes to inspections, repairs and disputed areas redraw their tiles
(the marker-inspections, marker-repairs and disputed-areas layers), and the areas' shapes
are indexed for the bbox of the OGC API and the tiles

Revision ID: e4a8c6f2b9d1
Revises: d2f6b8a4c1e7
Create Date: 2026-12-07 18:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e4a8c6f2b9d1"
down_revision: str | None = "d2f6b8a4c1e7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
TABLES = ("marker_inspections", "marker_repairs", "disputed_areas")


def upgrade() -> None:
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_notify_tiles AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bordermark_notify_tiles()"
        )
    op.create_index("ix_disputed_areas_geom", "disputed_areas", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_index("ix_disputed_areas_geom", "disputed_areas")
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_notify_tiles ON {table}")
