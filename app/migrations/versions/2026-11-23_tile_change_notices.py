"""tile change notices: NOTIFY bordermark_tiles after writes to the tables tiles draw

Revision ID: 5b1c0e7d9a21
Revises: f680bad98ab3
Create Date: 2026-11-23 23:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5b1c0e7d9a21"
down_revision: str | None = "f680bad98ab3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Statement-level and deduplicated by PostgreSQL within a transaction; delivered only
# after commit, so a cache that drops entries on notice never keeps a committed change out.
TABLES = (
    "incidents",
    "markers",
    "segments",
    "borders",
    "admin_units",
    "clearing_works",
    "clearing_completions",
)


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION bordermark_notify_tiles() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify('bordermark_tiles', TG_TABLE_NAME);
          RETURN NULL;
        END $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_notify_tiles AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bordermark_notify_tiles()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_notify_tiles ON {table}")
    op.execute("DROP FUNCTION bordermark_notify_tiles()")
