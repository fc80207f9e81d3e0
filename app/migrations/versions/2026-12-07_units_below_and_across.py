"""units below and across: communes and Border Guard stations beside provinces and
districts, each unit's province and founding act; the units across the line; the official
border length per province

Revision ID: c9e3a7f1d5b8
Revises: b7d1f5a3c8e2
Create Date: 2026-12-07 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c9e3a7f1d5b8"
down_revision: str | None = "b7d1f5a3c8e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_admin_units_level"), "admin_units", type_="check")
    op.create_check_constraint(
        op.f("ck_admin_units_level"),
        "admin_units",
        "level IN ('province', 'district', 'commune', 'station')",
    )
    op.add_column("admin_units", sa.Column("province_code", sa.String(40), nullable=True))
    op.add_column("admin_units", sa.Column("document", sa.Text(), nullable=True))
    # Every unit below a province had its province as parent until now.
    op.execute("UPDATE admin_units SET province_code = parent_code WHERE level <> 'province'")
    op.create_table(
        "counterpart_units",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("level", sa.String(12), nullable=False),
        sa.Column("name_vi", sa.String(120), nullable=False),
        sa.Column("name_local", sa.String(120), nullable=True),
        sa.Column("name_en", sa.String(120), nullable=False),
        sa.Column("parent_code", sa.String(40), nullable=True),
        sa.Column("facing", postgresql.ARRAY(sa.String(40)), server_default="{}", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "level IN ('province', 'prefecture', 'county')",
            name=op.f("ck_counterpart_units_level"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["counterpart_units.code"],
            name=op.f("fk_counterpart_units_parent_code_counterpart_units"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_counterpart_units")),
    )
    op.create_table(
        "official_border_lengths",
        sa.Column("province_code", sa.String(40), nullable=False),
        sa.Column("border_id", sa.Integer(), nullable=False),
        sa.Column("length_km", sa.Numeric(9, 3), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint("length_km > 0", name=op.f("ck_official_border_lengths_positive")),
        sa.ForeignKeyConstraint(
            ["border_id"], ["borders.id"], name=op.f("fk_official_border_lengths_border_id_borders")
        ),
        sa.PrimaryKeyConstraint(
            "province_code", "border_id", name=op.f("pk_official_border_lengths")
        ),
    )


def downgrade() -> None:
    op.drop_table("official_border_lengths")
    op.drop_table("counterpart_units")
    op.execute("DELETE FROM admin_units WHERE level IN ('commune', 'station')")
    op.drop_column("admin_units", "document")
    op.drop_column("admin_units", "province_code")
    op.drop_constraint(op.f("ck_admin_units_level"), "admin_units", type_="check")
    op.create_check_constraint(
        op.f("ck_admin_units_level"), "admin_units", "level IN ('province', 'district')"
    )
