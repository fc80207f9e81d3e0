"""patrol stations: a patrol may name its Border Guard station from the register of units

Revision ID: b8e4a2c6d9f1
Revises: a7d3f9b5e2c8
Create Date: 2026-12-07 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b8e4a2c6d9f1"
down_revision: str | None = "a7d3f9b5e2c8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("patrols", sa.Column("station_code", sa.String(40), nullable=True))


def downgrade() -> None:
    op.drop_column("patrols", "station_code")
