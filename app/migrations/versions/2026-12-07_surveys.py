"""surveys: surveys of the line and their areas, each with its finding

Revision ID: e8b2f6d4a9c1
Revises: d5a9c3e7b1f4
Create Date: 2026-12-07 15:40:00
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = "e8b2f6d4a9c1"
down_revision: str | None = "d5a9c3e7b1f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FINDINGS = (
    "finding IN ('terrain', 'river', 'landslide_risk', 'fence_in_sightline', 'river_shift', "
    "'diverging_views', 'patrol_road', 'monitoring_equipment', 'other')"
)


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), sa.Identity(always=True), nullable=False),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("border_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(12), nullable=False),
        sa.Column("led_by", sa.String(200), nullable=False),
        sa.Column("province_code", sa.String(40), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("document_id", sa.UUID(), nullable=True),
        sa.Column("section", sa.String(40), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("scope IN ('unilateral', 'joint')", name=op.f("ck_surveys_scope")),
        sa.ForeignKeyConstraint(
            ["border_id"], ["borders.id"], name=op.f("fk_surveys_border_id_borders")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_surveys_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("code", name=op.f("uq_surveys_code")),
    )
    op.create_index("ix_surveys_province_code", "surveys", ["province_code"])
    op.create_table(
        "survey_areas",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("finding", sa.String(24), nullable=False),
        sa.Column("location_ref", sa.String(120), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="GEOMETRY",
                srid=4326,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
            ),
            nullable=True,
        ),
        sa.Column("views", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("illustrative", sa.Boolean(), server_default="false", nullable=False),
        sa.CheckConstraint(FINDINGS, name=op.f("ck_survey_areas_finding")),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_areas_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_areas")),
    )
    op.create_index("ix_survey_areas_survey", "survey_areas", ["survey_id", "finding"])


def downgrade() -> None:
    op.drop_table("survey_areas")
    op.drop_table("surveys")
