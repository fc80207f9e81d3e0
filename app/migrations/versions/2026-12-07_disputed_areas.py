"""disputed areas: where the two sides' views of the line differ

Revision ID: b7d1f5a3c8e2
Revises: a4e8c2d6f1b9
Create Date: 2026-12-07 16:20:00
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = "b7d1f5a3c8e2"
down_revision: str | None = "a4e8c2d6f1b9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "disputed_areas",
        sa.Column("id", sa.Integer(), sa.Identity(always=True), nullable=False),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("border_id", sa.Integer(), nullable=False),
        sa.Column("province_code", sa.String(40), nullable=False),
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
        sa.Column("our_view", sa.Text(), nullable=True),
        sa.Column("their_view", sa.Text(), nullable=True),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("since_dated_by", sa.String(10), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("settled_on", sa.Date(), nullable=True),
        sa.Column("incident_id", sa.UUID(), nullable=True),
        sa.Column("document_id", sa.UUID(), nullable=True),
        sa.Column("section", sa.String(40), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "state IN ('open', 'under_talks', 'settled')", name=op.f("ck_disputed_areas_state")
        ),
        sa.CheckConstraint(
            "since_dated_by IN ('event', 'report')", name=op.f("ck_disputed_areas_since_dated_by")
        ),
        sa.CheckConstraint(
            "state <> 'settled' OR settled_on IS NOT NULL",
            name=op.f("ck_disputed_areas_settled_on"),
        ),
        sa.ForeignKeyConstraint(
            ["border_id"], ["borders.id"], name=op.f("fk_disputed_areas_border_id_borders")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_disputed_areas_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_disputed_areas_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputed_areas")),
        sa.UniqueConstraint("code", name=op.f("uq_disputed_areas_code")),
    )
    op.create_index("ix_disputed_areas_province_code", "disputed_areas", ["province_code"])


def downgrade() -> None:
    op.drop_table("disputed_areas")
