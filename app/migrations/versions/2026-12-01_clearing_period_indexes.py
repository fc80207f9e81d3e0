"""clearing period indexes: the summary finds the works a period concerns by their start
and by their completions' day, instead of reading every work of the border

Revision ID: 2e6b9d4f8a17
Revises: 7a3d5e9b2c61
Create Date: 2026-12-01 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2e6b9d4f8a17"
down_revision: str | None = "7a3d5e9b2c61"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_clearing_works_starts",
        "clearing_works",
        [sa.text("coalesce(planned_start, actual_start)")],
        unique=False,
    )
    op.create_index(
        "ix_clearing_completions_completed_on",
        "clearing_completions",
        ["completed_on"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_clearing_completions_completed_on", table_name="clearing_completions")
    op.drop_index("ix_clearing_works_starts", table_name="clearing_works")
