"""open incidents index: a spatial index of the open incidents alone, for the similar
reports every POST answers with (open, same category, within 200 m and 14 days)

At a million incidents, from asyncpg on 300 new reports in a busy stretch: 0.9 -> 0.33 ms
a call (median); POST 282 -> 348-362/s (bench/results/2026-12-02.md).

Revision ID: 6d1f3b8e2a47
Revises: 2e6b9d4f8a17
Create Date: 2026-12-02 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6d1f3b8e2a47"
down_revision: str | None = "2e6b9d4f8a17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The open states as they stand at this revision (models.OPEN_STATUS_LIST_SQL).
    op.create_index(
        "ix_incidents_open_geog",
        "incidents",
        [sa.text("(geom::geography)")],
        unique=False,
        postgresql_using="gist",
        postgresql_where=sa.text(
            "status IN ('escalated', 'in_negotiation', 'reported', 'verified')"
        ),
    )


def downgrade() -> None:
    op.drop_index("ix_incidents_open_geog", table_name="incidents")
