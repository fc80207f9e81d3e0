"""survey tile notices: writes to surveys and their areas redraw the survey-areas tiles

Revision ID: f3c7a1e9d5b2
Revises: e8b2f6d4a9c1
Create Date: 2026-12-07 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f3c7a1e9d5b2"
down_revision: str | None = "e8b2f6d4a9c1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
TABLES = ("surveys", "survey_areas")


def upgrade() -> None:
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_notify_tiles AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bordermark_notify_tiles()"
        )
    op.create_index("ix_survey_areas_geom", "survey_areas", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_index("ix_survey_areas_geom", "survey_areas")
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_notify_tiles ON {table}")
