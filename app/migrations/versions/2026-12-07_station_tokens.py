"""station tokens: a reporter may act in a Border Guard station's area instead of a
district (districts ended on 1 Jul 2025; stations did not)

Revision ID: f6c2a8e4d1b3
Revises: e4a8c6f2b9d1
Create Date: 2026-12-07 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f6c2a8e4d1b3"
down_revision: str | None = "e4a8c6f2b9d1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OFFICER = "(role <> 'officer' OR province_code IS NOT NULL)"


def _scope(reporter: str) -> None:
    op.drop_constraint(op.f("ck_api_tokens_scope"), "api_tokens", type_="check")
    op.create_check_constraint(
        op.f("ck_api_tokens_scope"), "api_tokens", f"{OFFICER} AND {reporter}"
    )


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("station_code", sa.String(40), nullable=True))
    _scope("(role <> 'reporter' OR district_code IS NOT NULL OR station_code IS NOT NULL)")


def downgrade() -> None:
    op.execute("DELETE FROM api_tokens WHERE district_code IS NULL AND role = 'reporter'")
    _scope("(role <> 'reporter' OR district_code IS NOT NULL)")
    op.drop_column("api_tokens", "station_code")
