"""work communes: the communes a clearing work's stretch runs along, with the metres in
each, beside its districts (after 1 Jul 2025 the only units below the province)

Works stored before this migration have none until they are stored again; the summary
counts a work with neither districts nor communes in its province, as before.

Revision ID: a7d3f9b5e2c8
Revises: f6c2a8e4d1b3
Create Date: 2026-12-07 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a7d3f9b5e2c8"
down_revision: str | None = "f6c2a8e4d1b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "clearing_works",
        sa.Column(
            "communes", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False
        ),
    )


def downgrade() -> None:
    op.drop_column("clearing_works", "communes")
